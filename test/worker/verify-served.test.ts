import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/protocol/changes.js';
import { verifyHistory } from '../../src/protocol/verify.js';
import type { ProposalView } from '../../src/writer/contract.js';
import { CREATED, KEYS, TEST_POLICY, teamRegistry } from './fixtures.js';
import { serve, uniqueName } from './helpers.js';
import { approve, proposal, servedHistory, submit } from './signing.js';

const set = (id: string, owner: string, exact?: true): Change => ({
  op: 'set',
  entry: { from: { type: 'indirect', id }, to: { type: 'github', owner, repo: id }, ...(exact ? { exact } : {}) },
});

/** Every version as a client fetches it over HTTP: the verifier's whole input. */
describe('the history a service makes, as served', () => {
  it('verifies offline: merges, a stale base, a policy change and merges under the new policy', async () => {
    const name = uniqueName('verified');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const merged = async (res: Promise<Response>) =>
      expect((await (await res).json<ProposalView>()).status).toBe('merged');
    await merged(submit(service, proposal(name, 1, [set('one', 'acme')]), ['alice', 'bob']));
    await merged(
      submit(service, proposal(name, 1, [{ op: 'remove', from: { type: 'indirect', id: 'p' } }]), ['bob', 'carol']),
    );
    const rotate = proposal(name, 3, [
      { op: 'policy', policy: { keys: [KEYS.bob.public, KEYS.dave.public], threshold: 2 } },
    ]);
    expect((await submit(service, rotate, ['alice', 'bob'])).status).toBe(201);
    await merged(approve(service, rotate, 'dave'));
    await merged(submit(service, proposal(name, 4, [set('two', 'acme', true)]), ['dave', 'bob']));

    const history = await servedHistory(service, name);
    expect(history).toHaveLength(5);
    const result = await verifyHistory(history);
    expect(result).toMatchObject({ ok: true, versions: 5, policy: { keys: [KEYS.bob.public, KEYS.dave.public] } });

    // A file altered in storage is caught, and named.
    const altered = history.map((v, i) => (i === 2 ? { ...v, file: v.file.replace('"acme"', '"evil"') } : v));
    expect(await verifyHistory(altered)).toMatchObject({ ok: false, version: 3 });
  });

  it('verifies the 32 versions made by proposals submitted at once', async () => {
    const name = uniqueName('verified');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const answers = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        submit(service, proposal(name, 1, [set(`c${i}`, 'acme')]), ['alice', 'carol']),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 201));
    expect(await verifyHistory(await servedHistory(service, name))).toMatchObject({ ok: true, versions: 33 });
  });
});

// The official NixOS registry's layout (eight ordered nixpkgs entries: seven exact
// channels, then the non-exact fallback), when a copy is given (vitest.config.ts).
const official = (env as { OFFICIAL_FLAKE_REGISTRY_JSON?: string }).OFFICIAL_FLAKE_REGISTRY_JSON;

describe.skipIf(official === undefined)('proposals against the official registry', () => {
  const nixpkgs = { type: 'indirect', id: 'nixpkgs' };

  async function officialService() {
    const name = uniqueName('official');
    const service = serve([
      { name, file: JSON.parse(official ?? '{}') as unknown, policy: TEST_POLICY, created: CREATED },
    ]);
    await (await service.fetch(`/registries/${name}/flake-registry.json`)).arrayBuffer();
    return { name, service };
  }

  it('refuses moving the fallback above the exact channels, naming the entries it shadows', async () => {
    const { name, service } = await officialService();
    const move: Change = { op: 'move', from: nixpkgs, position: { before: nixpkgs, exact: true } };
    const res = await submit(service, proposal(name, 1, [move]), ['alice', 'bob']);
    expect(res.status).toBe(422);
    const body = await res.json<{ type: string; findings: { kind: string; from: string }[] }>();
    expect(body.type).toBe('urn:flake-registry:problem:lint-failed');
    expect(body.findings.every((f) => f.kind === 'shadowed')).toBe(true);
    expect(body.findings.map((f) => f.from)).toContain('flake:nixpkgs/nixos-26.05');
    expect((await service.fetch(`/registries/${name}/versions/2`)).status).toBe(404);
  });

  it('merges a new channel placed before the fallback, and resolves it as Nix would', async () => {
    const { name, service } = await officialService();
    const channel: Change = {
      op: 'set',
      entry: {
        from: { ...nixpkgs, ref: 'nixos-26.11' },
        to: { type: 'tarball', url: 'https://channels.nixos.org/nixos-26.11/nixexprs.tar.xz' },
        exact: true,
      },
      position: { before: nixpkgs },
    };
    const res = await submit(service, proposal(name, 1, [channel]), ['alice', 'bob']);
    const view = await res.json<ProposalView>();
    expect(view).toMatchObject({ status: 'merged', version: 2 });
    expect(view.review.impact.map((l) => l.text)).toContain(
      'nixpkgs/nixos-26.11: github:NixOS/nixpkgs/nixos-26.11 -> https://channels.nixos.org/nixos-26.11/nixexprs.tar.xz',
    );
    const resolve = async (ref: string) =>
      (await (await service.fetch(`/resolve?ref=${ref}&registry=${name}`)).json<{ resolved: { url: string } }>())
        .resolved.url;
    expect(await resolve('nixpkgs/nixos-26.11')).toBe('https://channels.nixos.org/nixos-26.11/nixexprs.tar.xz');
    expect(await resolve('nixpkgs/master')).toBe('github:NixOS/nixpkgs/master');
    expect(await resolve('nixpkgs')).toBe('https://channels.nixos.org/nixpkgs-unstable/nixexprs.tar.xz');
  });
});
