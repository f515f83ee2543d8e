import { describe, expect, it, vi } from 'vitest';
import type { ProposalView } from '../../src/writer/contract.js';
import { CREATED, KEYS, TEST_POLICY, teamRegistry } from './fixtures.js';
import { serve, uniqueName } from './helpers.js';
import { proposal, submit } from './signing.js';

// DEV_TRUSTED_KEYS comes from `.dev.vars`, which `wrangler dev` reads and `wrangler deploy`
// never uploads. Here it is passed as the bindings would carry it.
describe('keys trusted for local development', () => {
  it("join the genesis policy of a registry started locally, so a local key's proposals merge", async () => {
    const name = uniqueName('local');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }], {
      vars: { DEV_TRUSTED_KEYS: `${KEYS.dave.public}\n` },
      origin: 'http://127.0.0.1:8787',
    });
    const policy = await (
      await service.fetch(`/registries/${name}/policy`)
    ).json<{ keys: string[]; threshold: number }>();
    expect(policy.keys).toEqual([...TEST_POLICY.keys, KEYS.dave.public]);
    expect(policy.threshold).toBe(2);
    const p = proposal(name, 1, [
      {
        op: 'set',
        entry: { from: { type: 'indirect', id: 'tool' }, to: { type: 'github', owner: 'o', repo: 'tool' } },
      },
    ]);
    const res = await submit(service, p, ['dave', 'alice']);
    expect(res.status).toBe(201);
    expect(await res.json<ProposalView>()).toMatchObject({ status: 'merged', version: 2 });
  });

  it('are refused on any host but a loopback one: the service answers 500 instead of trusting them', async () => {
    const name = uniqueName('local');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }], {
      vars: { DEV_TRUSTED_KEYS: KEYS.dave.public },
      origin: 'https://registry.example.org',
    });
    for (const path of [`/registries/${name}/policy`, `/registries/${name}/flake-registry.json`, '/healthz']) {
      const res = await service.fetch(path);
      expect(res.status, path).toBe(500);
      const body = await res.json<{ type: string; detail: string }>();
      expect(body.type).toBe('urn:flake-registry:problem:registry-misconfigured');
      expect(body.detail).toContain('DEV_TRUSTED_KEYS');
    }
  });

  it('count every loopback name as local: 127.0.0.0/8, localhost and ::1', async () => {
    for (const origin of ['http://127.0.0.2:8787', 'http://localhost:8787', 'http://[::1]:8787']) {
      const name = uniqueName('local');
      const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }], {
        vars: { DEV_TRUSTED_KEYS: KEYS.dave.public },
        origin,
      });
      expect((await service.fetch(`/registries/${name}/policy`)).status, origin).toBe(200);
    }
  });

  it('name DEV_TRUSTED_KEYS, not the policy file, when a key there cannot join the policy', async () => {
    const name = uniqueName('local');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }], {
      vars: { DEV_TRUSTED_KEYS: 'bogus' },
      origin: 'http://127.0.0.1:8787',
    });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await service.fetch(`/registries/${name}/flake-registry.json`);
    logged.mockRestore();
    expect(res.status).toBe(500);
    const body = await res.json<{ detail: string }>();
    expect(body.detail).toContain('DEV_TRUSTED_KEYS (.dev.vars)');
    expect(body.detail).not.toContain('policy.json');
  });

  it('accept a key the policy already lists, without listing it twice', async () => {
    const name = uniqueName('local');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }], {
      vars: { DEV_TRUSTED_KEYS: KEYS.alice.public.replace('alice:', 'alice-laptop:') },
      origin: 'http://127.0.0.1:8787',
    });
    const policy = await (await service.fetch(`/registries/${name}/policy`)).json<{ keys: string[] }>();
    expect(policy.keys).toEqual(TEST_POLICY.keys);
  });
});
