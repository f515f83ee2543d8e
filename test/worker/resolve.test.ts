import { describe, expect, it } from 'vitest';
import { CREATED, overlayRegistry, REV, teamRegistry, TEST_POLICY } from './fixtures.js';
import { publish, serve, uniqueName } from './helpers.js';

interface Resolution {
  ref: { url: string; attrs: Record<string, unknown> };
  resolved: { url: string; attrs: Record<string, unknown>; dir?: string };
  steps: { registry: string; version: number; index: number; exact: boolean; from: string; to: string }[];
  registries: { name: string; version: number }[];
}

function team() {
  const name = uniqueName('team');
  const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
  const resolve = (ref: string, registry = name) =>
    service.fetch(`/resolve?ref=${encodeURIComponent(ref)}&registry=${encodeURIComponent(registry)}`);
  return { name, service, resolve };
}

describe('GET /resolve', () => {
  it('answers the resolved ref in URL and attribute form with the steps taken', async () => {
    const { name, resolve } = team();
    const res = await resolve('nixpkgs/nixos-unstable');
    expect(res.status).toBe(200);
    const body = await res.json<Resolution>();
    expect(body.ref).toEqual({
      url: 'flake:nixpkgs/nixos-unstable',
      attrs: { type: 'indirect', id: 'nixpkgs', ref: 'nixos-unstable' },
    });
    expect(body.resolved).toEqual({
      url: 'github:NixOS/nixpkgs/nixos-unstable',
      attrs: { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-unstable' },
    });
    expect(body.steps).toEqual([
      {
        registry: name,
        version: 1,
        index: 1,
        exact: false,
        from: 'flake:nixpkgs',
        to: 'github:NixOS/nixpkgs/nixos-unstable',
      },
    ]);
    expect(body.registries).toEqual([{ name, version: 1 }]);
  });

  it('takes an exact entry only for the exact ref', async () => {
    const { resolve } = team();
    const exact = await (await resolve('nixpkgs/nixos-24.05')).json<Resolution>();
    expect(exact.resolved.attrs).toEqual({
      type: 'tarball',
      url: 'https://channels.example.org/nixos-24.05/nixexprs.tar.xz',
    });
    expect(exact.steps[0]).toMatchObject({ index: 0, exact: true });
  });

  it('follows chains and reports every hop', async () => {
    const { resolve } = team();
    const body = await (await resolve('chain/dev')).json<Resolution>();
    expect(body.resolved.url).toBe('git+file:///srv/a?ref=dev');
    expect(body.steps.map((s) => s.index)).toEqual([4, 2]);
  });

  it("returns the entry's dir in the resolved ref", async () => {
    const { resolve } = team();
    const body = await (await resolve('asub/main')).json<Resolution>();
    expect(body.resolved.dir).toBe('sub');
    expect(body.resolved.attrs).toEqual({ type: 'git', url: 'file:///srv/a', ref: 'main', dir: 'sub' });
    expect(body.resolved.url).toBe('git+file:///srv/a?dir=sub&ref=main');
  });

  it("takes '+' in ref literally, as in git+https:, whether encoded or not", async () => {
    const { name, service } = team();
    for (const ref of ['git+https://example.org/r?ref=main', 'git%2Bhttps%3A%2F%2Fexample.org%2Fr%3Fref%3Dmain']) {
      const res = await service.fetch(`/resolve?registry=${name}&ref=${ref}`);
      expect(res.status).toBe(200);
      expect((await res.json<Resolution>()).resolved.url).toBe('git+https://example.org/r?ref=main');
    }
    const space = await service.fetch(`/resolve?registry=${name}&ref=/srv/my%20flake`);
    expect((await space.json<Resolution>()).resolved.attrs).toEqual({ type: 'path', path: '/srv/my flake' });
  });

  it('refuses a ref that is not valid percent-encoding', async () => {
    const { name, service } = team();
    const res = await service.fetch(`/resolve?registry=${name}&ref=nixpkgs%zz`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'urn:flake-registry:problem:invalid-request', parameter: 'ref' });
  });

  it('names the parameter of every bad query value in `parameter`', async () => {
    const { name, service } = team();
    const cases = [
      [`/resolve?ref=x&registry=${name}@0`, 'registry'],
      ['/resolve?ref=x&registry=Bad', 'registry'],
      [`/resolve?ref=x&registry=${Array.from({ length: 9 }, () => name).join(',')}`, 'registry'],
      ['/resolve?ref=%ZZ', 'ref'],
      [`/resolve?registry=${name}`, 'ref'],
    ] as const;
    for (const [path, parameter] of cases) {
      const res = await service.fetch(path);
      expect(res.status, path).toBe(400);
      expect(await res.json(), path).toMatchObject({ type: 'urn:flake-registry:problem:invalid-request', parameter });
    }
  });

  it('resolves a direct ref to itself', async () => {
    const { resolve } = team();
    const body = await (await resolve('github:NixOS/nix/2.18.0')).json<Resolution>();
    expect(body.resolved.url).toBe('github:NixOS/nix/2.18.0');
    expect(body.steps).toEqual([]);
  });

  it('caches like the latest file, and immutably when every registry is pinned', async () => {
    const { name, resolve } = team();
    expect((await resolve('nixpkgs')).headers.get('Cache-Control')).toBe('public, max-age=3600, stale-if-error=86400');
    expect((await resolve('nixpkgs', `${name}@1`)).headers.get('Cache-Control')).toBe(
      'public, max-age=31536000, immutable',
    );
  });

  it('searches layered registries in the order given, each at its latest or pinned version', async () => {
    const overlay = uniqueName('overlay');
    const teamName = uniqueName('team');
    const service = serve([
      { name: overlay, file: overlayRegistry, policy: TEST_POLICY, created: CREATED },
      { name: teamName, file: teamRegistry, policy: TEST_POLICY, created: CREATED },
    ]);
    const first = await (
      await service.fetch(`/resolve?ref=nixpkgs&registry=${overlay},${teamName}`)
    ).json<Resolution>();
    expect(first.resolved.url).toBe('github:me/nixpkgs/mine');
    const other = await (
      await service.fetch(`/resolve?ref=nixpkgs&registry=${teamName},${overlay}`)
    ).json<Resolution>();
    expect(other.resolved.url).toBe('github:NixOS/nixpkgs/nixpkgs-unstable');
    // `tool` is only in the overlay and points at `a`, which only the team registry has.
    const across = await (await service.fetch(`/resolve?ref=tool&registry=${overlay},${teamName}`)).json<Resolution>();
    expect(across.resolved.url).toBe('git+file:///srv/a');
    expect(across.steps.map((s) => s.registry)).toEqual([overlay, teamName]);
  });

  it('resolves against an older version when pinned', async () => {
    const { name, resolve } = team();
    await resolve('nixpkgs');
    await publish(name, 2, overlayRegistry, '2026-03-02T00:00:00.000Z');
    const fresh = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const latest = await (await fresh.fetch(`/resolve?ref=nixpkgs&registry=${name}`)).json<Resolution>();
    expect(latest.resolved.url).toBe('github:me/nixpkgs/mine');
    expect(latest.registries).toEqual([{ name, version: 2 }]);
    const pinned = await (await fresh.fetch(`/resolve?ref=nixpkgs&registry=${name}@1`)).json<Resolution>();
    expect(pinned.resolved.url).toBe('github:NixOS/nixpkgs/nixpkgs-unstable');
  });

  it('answers from the new version once the head moves, not from its earlier answer', async () => {
    const name = uniqueName('team');
    let now = 1_000_000;
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }], { now: () => now });
    const ask = async () => (await service.fetch(`/resolve?ref=nixpkgs&registry=${name}`)).json<Resolution>();
    expect((await ask()).resolved.url).toBe('github:NixOS/nixpkgs/nixpkgs-unstable');
    await publish(name, 2, overlayRegistry, '2026-03-02T00:00:00.000Z');
    now += 31_000;
    const after = await ask();
    expect(after.resolved.url).toBe('github:me/nixpkgs/mine');
    expect(after.registries).toEqual([{ name, version: 2 }]);
  });

  it('defaults to the latest global registry', async () => {
    const service = serve([{ name: 'global', file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const body = await (await service.fetch('/resolve?ref=a')).json<Resolution>();
    expect(body.registries[0]?.name).toBe('global');
  });
});

describe('GET /resolve errors', () => {
  async function problem(res: Response) {
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    return res.json<{ type: string; status: number; detail: string; title: string }>();
  }

  it.each([
    ['an unparsable ref', 'nixpkgs/release/foo', 400, 'invalid-ref', "'foo' is not a commit hash"],
    [
      'a flake no registry has',
      'nothere',
      404,
      'not-found',
      "cannot find flake 'flake:nothere' in the flake registries",
    ],
    ['a cycle', 'x', 422, 'cycle', "cycle detected in flake registry for 'flake:y'"],
    [
      'a ref on a path target',
      'p/main',
      422,
      'override',
      "don't know how to set branch/tag name of input 'path:/srv/p' to 'main'",
    ],
    ['a rev without ref on a git target', `a/${REV}`, 422, 'override', 'has a commit hash but no branch/tag name'],
  ])('answers %s with its Nix error text', async (_, ref, status, kind, text) => {
    const { resolve } = team();
    const res = await resolve(ref);
    expect(res.status).toBe(status);
    const body = await problem(res);
    expect(body.type).toBe(`urn:flake-registry:problem:${kind}`);
    expect(body.status).toBe(status);
    expect(body.detail).toContain(text);
  });

  it('carries the ref as given and, for lookup errors, the hops taken before the failure', async () => {
    const { name, resolve } = team();
    const cycle = await (await resolve('x')).json<Record<string, unknown>>();
    expect(cycle['input']).toBe('x');
    expect(cycle['ref']).toMatchObject({ url: 'flake:x' });
    expect((cycle['steps'] as unknown[]).length).toBe(100);
    expect(cycle['registries']).toEqual([{ name, version: 1 }]);
    const invalid = await (await resolve('nixpkgs/release/foo')).json<Record<string, unknown>>();
    expect(invalid['input']).toBe('nixpkgs/release/foo');
    expect(invalid).not.toHaveProperty('steps');
  });

  it.each([
    ['no ref', '/resolve', 400, 'invalid-request'],
    ['an unknown registry', '/resolve?ref=a&registry=nope', 404, 'unknown-registry'],
    ['a malformed registry list', '/resolve?ref=a&registry=a@b@c', 400, 'invalid-request'],
    ['too many layers', `/resolve?ref=a&registry=${Array(9).fill('global').join(',')}`, 400, 'invalid-request'],
    ['an overlong ref', `/resolve?ref=${'a'.repeat(5000)}`, 400, 'invalid-ref'],
  ])('answers %s with 4xx problem+json', async (_, path, status, kind) => {
    const service = serve([{ name: 'global', file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const res = await service.fetch(path);
    expect(res.status).toBe(status);
    expect((await problem(res)).type).toBe(`urn:flake-registry:problem:${kind}`);
  });

  it('answers 404 unknown-version for a pin past the latest version', async () => {
    const { name, service } = team();
    const res = await service.fetch(`/resolve?ref=a&registry=${name}@7`);
    expect(res.status).toBe(404);
    expect((await problem(res)).type).toBe('urn:flake-registry:problem:unknown-version');
  });
});

describe('GET /resolve with override-flake (Nix: --override-flake ORIGINAL RESOLVED)', () => {
  const withOverrides = (ref: string, registry: string, ...values: string[]) =>
    `/resolve?ref=${encodeURIComponent(ref)}&registry=${registry}${values.map((v) => `&override-flake=${encodeURIComponent(v)}`).join('')}`;

  it('searches the overrides first, names them in the steps and echoes them', async () => {
    const { name, service } = team();
    const res = await service.fetch(withOverrides('nixpkgs/nixos-24.05', name, 'nixpkgs', 'github:me/nixpkgs'));
    expect(res.status).toBe(200);
    const body = await res.json<Resolution & { overrides: unknown }>();
    // The exact registry entry for nixos-24.05 is never reached: the override matches first.
    expect(body.resolved.url).toBe('github:me/nixpkgs/nixos-24.05');
    expect(body.steps).toEqual([
      {
        registry: '--override-flake',
        version: 0,
        index: 0,
        exact: false,
        from: 'flake:nixpkgs',
        to: 'github:me/nixpkgs/nixos-24.05',
      },
    ]);
    expect(body.registries).toEqual([{ name, version: 1 }]);
    expect(body.overrides).toEqual([{ original: 'nixpkgs', resolved: 'github:me/nixpkgs' }]);
  });

  it('takes the first override for a ref, and starts each hop again at the overrides', async () => {
    const { name, service } = team();
    const first = await service.fetch(withOverrides('a', name, 'a', 'github:first/a', 'a', 'github:second/a'));
    expect((await first.json<Resolution>()).resolved.url).toBe('github:first/a');
    const chain = await (await service.fetch(withOverrides('chain', name, 'a', 'github:o/a'))).json<Resolution>();
    expect(chain.steps.map((s) => s.registry)).toEqual([name, '--override-flake']);
    expect(chain.resolved.url).toBe('github:o/a');
  });

  it("answers Nix's errors with the overrides in the problem", async () => {
    const { name, service } = team();
    const cycle = await service.fetch(withOverrides('x', name, 'x', 'flake:y', 'y', 'flake:x'));
    expect(cycle.status).toBe(422);
    const problem = await cycle.json<{ type: string; overrides: unknown }>();
    expect(problem.type).toBe('urn:flake-registry:problem:cycle');
    expect(problem.overrides).toEqual([
      { original: 'x', resolved: 'flake:y' },
      { original: 'y', resolved: 'flake:x' },
    ]);
  });

  it('refuses what Nix would refuse, and what has no meaning here, naming the pair', async () => {
    const { name, service } = team();
    const cases: [string[], RegExp][] = [
      [['nixpkgs'], /override-flake: takes its values in pairs, ORIGINAL then RESOLVED.*got 1 values/],
      [['nixpkgs', 'github:a/b', 'x'], /got 3 values/],
      [['nixpkgs', 'not a ref at all!'], /--override-flake 1, resolved: /],
      [['a', 'github:a/b', '', 'github:c/d'], /--override-flake 2, original: /],
      [['a', 'path:./here'], /--override-flake 1, resolved: .*relative path '\.\/here'.*no working directory/],
      [
        Array.from({ length: 130 }, (_, i) => (i % 2 === 0 ? `id${i}` : 'github:o/r')),
        /65 overrides given; at most 64/,
      ],
    ];
    for (const [values, detail] of cases) {
      const res = await service.fetch(withOverrides('nixpkgs', name, ...values));
      expect(res.status, values.join(' ')).toBe(400);
      const problem = await res.json<{ type: string; detail: string; parameter: string }>();
      expect(problem).toMatchObject({
        type: 'urn:flake-registry:problem:invalid-request',
        parameter: 'override-flake',
      });
      expect(problem.detail).toMatch(detail);
    }
  });

  it('gives the answer with overrides its own validator, and caches it as the registries allow', async () => {
    const { name, service } = team();
    const plain = await service.fetch(withOverrides('a', name));
    const over = await service.fetch(withOverrides('a', name, 'a', 'github:o/a'));
    const other = await service.fetch(withOverrides('a', name, 'a', 'github:o/b'));
    const etags = [plain, over, other].map((r) => r.headers.get('ETag'));
    expect(new Set(etags).size).toBe(3);
    expect(over.headers.get('Cache-Control')).toBe(plain.headers.get('Cache-Control'));
    const again = await service.fetch(withOverrides('a', name, 'a', 'github:o/a'), {
      headers: { 'If-None-Match': etags[1] ?? '' },
    });
    expect(again.status).toBe(304);
  });
});
