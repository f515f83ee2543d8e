import { describe, expect, it } from 'vitest';
import type { AuditAnswer, ProposalAuditAnswer } from '../../src/api/answers.js';
import type { Change } from '../../src/protocol/changes.js';
import manifestV1 from '../nix/fixtures/manifest-v1.json';
import manifestV2 from '../nix/fixtures/manifest-v2.json';
import manifestV3 from '../nix/fixtures/manifest-v3.json';
import type { TestService } from './helpers.js';
import { approve, idOf, kvSnapshot, proposal, submit, team } from './signing.js';

const REV = 'e5d3f4a7b39d433d2fa8ef32901f05d6a0ab3ad8';
const HASH = 'sha256-l1xj7nFbi1mhSzgnqHWhkEzN2d+OqDkVNkHFwg+Ah3A=';

/** A flake.lock whose inputs go through the registry (nixpkgs, a, tool) or not (direct). */
const lock = {
  version: 7,
  root: 'root',
  nodes: {
    root: { inputs: { nixpkgs: 'nixpkgs', a: 'a', tool: 'tool', direct: 'direct' } },
    nixpkgs: {
      original: { type: 'indirect', id: 'nixpkgs' },
      locked: { type: 'github', owner: 'NixOS', repo: 'nixpkgs', rev: REV, narHash: HASH, lastModified: 1 },
    },
    a: {
      original: { type: 'indirect', id: 'a' },
      locked: { type: 'git', url: 'file:///srv/a', rev: REV, narHash: HASH, lastModified: 1, revCount: 3 },
    },
    tool: {
      original: { type: 'indirect', id: 'tool' },
      locked: { type: 'github', owner: 'acme', repo: 'tool', rev: REV, narHash: HASH, lastModified: 1 },
    },
    direct: {
      original: { type: 'github', owner: 'o', repo: 'r' },
      locked: { type: 'github', owner: 'o', repo: 'r', rev: REV, narHash: HASH, lastModified: 1 },
    },
  },
};

const post = (service: TestService, path: string, body: unknown, type = 'application/json') =>
  service.fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const statuses = (a: AuditAnswer) => Object.fromEntries(a.rows.map((r) => [r.id, r.status.kind]));

const redirect: Change = {
  op: 'set',
  entry: { from: { type: 'indirect', id: 'nixpkgs' }, to: { type: 'github', owner: 'me', repo: 'nixpkgs' } },
};

describe('POST /audit', () => {
  it("answers each lock input's status, what it is locked to and what the registry resolves it to", async () => {
    const { name, service } = await team();
    const res = await post(service, `/audit?registry=${name}`, lock);
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const audit = await res.json<AuditAnswer>();
    expect(audit).toMatchObject({ document: 'flake.lock', version: 7, registries: [{ name, version: 1 }] });
    expect(statuses(audit)).toEqual({ nixpkgs: 'same-source', a: 'same-source', tool: 'not-found', direct: 'direct' });
    const nixpkgs = audit.rows.find((r) => r.id === 'nixpkgs');
    expect(nixpkgs?.resolved?.url).toBe('github:NixOS/nixpkgs/nixpkgs-unstable');
    expect(nixpkgs?.steps).toEqual([
      {
        registry: name,
        version: 1,
        index: 1,
        exact: false,
        from: 'flake:nixpkgs',
        to: 'github:NixOS/nixpkgs/nixpkgs-unstable',
      },
    ]);
    expect(audit.rows.find((r) => r.id === 'tool')?.status).toEqual({
      kind: 'not-found',
      message: "cannot find flake 'flake:tool' in the flake registries",
    });
  });

  it('ignores a byte order mark before the JSON, as the README says', async () => {
    const { name, service } = await team();
    const res = await post(service, `/audit?registry=${name}`, `\uFEFF${JSON.stringify(lock)}`);
    expect(res.status).toBe(200);
    expect(statuses(await res.json<AuditAnswer>())).toMatchObject({ nixpkgs: 'same-source' });
    const twice = await post(service, `/audit?registry=${name}`, `\uFEFF\uFEFF${JSON.stringify(lock)}`);
    expect(twice.status).toBe(400);
  });

  it('takes overrides as /resolve does: an override redirects, and is echoed', async () => {
    const { name, service } = await team();
    const res = await post(
      service,
      `/audit?registry=${name}&override-flake=nixpkgs&override-flake=${encodeURIComponent('github:me/nixpkgs')}`,
      lock,
    );
    const audit = await res.json<AuditAnswer>();
    expect(statuses(audit).nixpkgs).toBe('redirected');
    expect(audit.rows.find((r) => r.id === 'nixpkgs')?.status).toEqual({
      kind: 'redirected',
      changes: [{ attribute: 'owner', from: 'NixOS', to: 'me' }],
    });
    expect(audit.overrides).toEqual([{ original: 'nixpkgs', resolved: 'github:me/nixpkgs' }]);
  });

  it('reads profile manifests of versions 1, 2 and 3 by their content', async () => {
    const { name, service } = await team();
    for (const [manifest, version] of [
      [manifestV1, 1],
      [manifestV2, 2],
      [manifestV3, 3],
    ] as const) {
      const audit = await (await post(service, `/audit?registry=${name}`, manifest)).json<AuditAnswer>();
      expect(audit).toMatchObject({ document: 'manifest.json', version });
      expect(audit.rows.length).toBeGreaterThan(0);
      expect(audit.rows.every((r) => r.kind === 'element')).toBe(true);
    }
  });

  it('refuses bad input with a problem that says what is wrong, and stores nothing', async () => {
    const { name, service } = await team();
    const before = await kvSnapshot(name);
    const cases: [unknown, number, string, RegExp, string?][] = [
      ['{not json', 400, 'invalid-json', /JSON/],
      [{ ...lock, version: 4 }, 422, 'invalid-document', /version/, 'unsupported-version'],
      [{ ...lock, version: 8 }, 422, 'invalid-document', /version/, 'unsupported-version'],
      [
        { ...lock, nodes: { ...lock.nodes, a: { locked: lock.nodes.a.locked } } },
        422,
        'invalid-document',
        /original/,
        'missing-attribute',
      ],
      [
        {
          version: 7,
          root: 'root',
          nodes: { root: { inputs: { x: ['y'], y: ['x'] } } },
        },
        422,
        'invalid-document',
        /follow cycle/,
        'follows-cycle',
      ],
      [{ hello: 'world' }, 422, 'invalid-document', /neither a flake\.lock/, 'unrecognised'],
      [{ elements: { x: 'nope' }, version: 3 }, 422, 'invalid-document', /element/, 'invalid-element'],
      [JSON.stringify({ pad: 'x'.repeat(10 * 1024 * 1024) }), 413, 'payload-too-large', /1 MiB|large/],
    ];
    for (const [body, status, kind, detail, code] of cases) {
      const res = await post(service, `/audit?registry=${name}`, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      const problem = await res.json<{ type: string; detail: string; code?: string }>();
      expect(problem.type).toBe(`urn:flake-registry:problem:${kind}`);
      expect(problem.detail).toMatch(detail);
      if (code !== undefined) expect(problem.code).toBe(code);
    }
    const plain = await post(service, `/audit?registry=${name}`, JSON.stringify(lock), 'text/plain');
    expect(plain.status).toBe(415);
    expect((await post(service, `/audit?registry=nope-${name}`, lock)).status).toBe(404);
    expect((await post(service, `/audit?registry=${name}&override-flake=x`, lock)).status).toBe(400);
    expect(await kvSnapshot(name)).toEqual(before);
  });
});

describe('POST /registries/NAME/proposals/ID/audit', () => {
  it('says what a proposal would move, and agrees with the audit once it merged', async () => {
    const { name, service } = await team();
    const p = proposal(name, 1, [redirect]);
    expect((await submit(service, p, ['alice'])).status).toBe(201);
    const path = `/registries/${name}/proposals/${idOf(p)}/audit`;
    const open = await (await post(service, path, lock)).json<ProposalAuditAnswer>();
    expect(open).toMatchObject({ registry: name, proposal: idOf(p), status: 'open', from: 1, to: 2, unchanged: 3 });
    expect(statuses(open.before).nixpkgs).toBe('same-source');
    expect(statuses(open.after).nixpkgs).toBe('redirected');
    expect(open.changed).toEqual([
      {
        kind: 'input',
        id: 'nixpkgs',
        before: { status: { kind: 'same-source' }, target: { url: 'github:NixOS/nixpkgs/nixpkgs-unstable' } },
        after: {
          status: { kind: 'redirected', changes: [{ attribute: 'owner', from: 'NixOS', to: 'me' }] },
          target: { url: 'github:me/nixpkgs' },
        },
        statusChanged: true,
        targetChanged: true,
      },
    ]);

    expect((await approve(service, p, 'bob')).status).toBe(200);
    const now = await (await post(service, `/audit?registry=${name}`, lock)).json<AuditAnswer>();
    expect(now.registries).toEqual([{ name, version: 2 }]);
    expect(now.rows).toEqual(
      open.after.rows.map((r) => ({ ...r, steps: r.steps?.map((s) => ({ ...s, version: 2 })) })),
    );
    const merged = await (await post(service, path, lock)).json<ProposalAuditAnswer>();
    expect(merged).toMatchObject({ status: 'merged', from: 1, to: 2 });
    expect(merged.after).toEqual(now);
    expect(merged.changed).toEqual(open.changed);
  });

  it('refuses an unknown proposal, a registry list without this registry, and a pinned one', async () => {
    const { name, service } = await team();
    const p = proposal(name, 1, [redirect]);
    await submit(service, p, ['alice']);
    const unknown = await post(service, `/registries/${name}/proposals/${'0'.repeat(64)}/audit`, lock);
    expect(unknown.status).toBe(404);
    for (const registry of ['global', `${name}@1`]) {
      const res = await post(service, `/registries/${name}/proposals/${idOf(p)}/audit?registry=${registry}`, lock);
      expect(res.status).toBe(400);
      expect((await res.json<{ detail: string }>()).detail).toMatch(/must name .* at its latest/);
    }
  });
});
