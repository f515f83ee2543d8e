import { sha256Hex } from '../../src/crypto/sha256.js';
import { describe, expect, it } from 'vitest';
import { CREATED, overlayRegistry, teamRegistry, TEST_POLICY } from './fixtures.js';
import { publish, serve, uniqueName } from './helpers.js';

interface Listing {
  registry: string;
  latest: number;
  versions: { version: number; sha256: string; parent: string | null }[];
  next: string | null;
}

async function registryWithVersions(count: number) {
  const name = uniqueName();
  const first = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
  await first.fetch(`/registries/${name}/flake-registry.json`);
  for (let n = 2; n <= count; n++) {
    await publish(name, n, n % 2 === 0 ? overlayRegistry : teamRegistry, `2026-03-0${n}T00:00:00.000Z`);
  }
  return { name, service: serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]) };
}

describe('GET /registries', () => {
  it('lists every hosted registry with its latest version, entry count and hash', async () => {
    const a = uniqueName('a');
    const b = uniqueName('b');
    const service = serve([
      { name: a, file: teamRegistry, policy: TEST_POLICY, created: CREATED },
      { name: b, file: overlayRegistry, policy: TEST_POLICY, created: CREATED },
    ]);
    const res = await service.fetch('/registries');
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=60');
    const { registries } = await res.json<{
      registries: { name: string; version: number; entries: number; sha256: string }[];
    }>();
    expect(registries.map((r) => [r.name, r.version, r.entries])).toEqual([
      [a, 1, teamRegistry.flakes.length],
      [b, 1, overlayRegistry.flakes.length],
    ]);
    const file = await service.fetch(`/registries/${a}/flake-registry.json`);
    expect(file.headers.get('ETag')).toBe(`"${registries[0]?.sha256}"`);
  });
});

describe('GET /registries/:name/versions', () => {
  it('lists the history newest first, each version linked to its parent by hash', async () => {
    const { name, service } = await registryWithVersions(3);
    const res = await service.fetch(`/registries/${name}/versions`);
    expect(res.status).toBe(200);
    const listing = await res.json<Listing>();
    expect(listing.latest).toBe(3);
    expect(listing.versions.map((v) => v.version)).toEqual([3, 2, 1]);
    // `parent` is the SHA-256 of the parent's record as served (its canonical JSON).
    for (const [child, parent] of [
      [3, 2],
      [2, 1],
    ] as const) {
      const parentText = await (await service.fetch(`/registries/${name}/versions/${parent}`)).text();
      expect(listing.versions[3 - child]?.parent).toBe(await sha256Hex(parentText));
    }
    expect(listing.versions[2]?.parent).toBeNull();
    expect(listing.next).toBeNull();
  });

  it('paginates with limit and a next link that walks to version 1', async () => {
    const { name, service } = await registryWithVersions(5);
    const seen: number[] = [];
    let url: string | null = `/registries/${name}/versions?limit=2`;
    while (url !== null) {
      const page: Listing = await (await service.fetch(url)).json<Listing>();
      seen.push(...page.versions.map((v) => v.version));
      url = page.next;
    }
    expect(seen).toEqual([5, 4, 3, 2, 1]);
  });

  it.each([['limit=0'], ['limit=101'], ['limit=x'], ['before=1']])('refuses ?%s with 400', async (query) => {
    const { name, service } = await registryWithVersions(1);
    const res = await service.fetch(`/registries/${name}/versions?${query}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  });
});

describe('GET /registries/:name/versions/:n', () => {
  it("returns one version's record with immutable caching", async () => {
    const { name, service } = await registryWithVersions(2);
    const res = await service.fetch(`/registries/${name}/versions/1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    const record = await res.json<Record<string, unknown>>();
    expect(record).toMatchObject({
      registry: name,
      version: 1,
      parent: null,
      created: new Date(CREATED).toISOString(),
      entries: teamRegistry.flakes.length,
      source: { kind: 'embedded' },
    });
    expect(record['changes']).toMatchObject({
      added: expect.arrayContaining(['flake:nixpkgs/nixos-24.05 (exact)', 'flake:a']) as unknown,
    });
  });

  it('answers 404 unknown-version past the latest version', async () => {
    const { name, service } = await registryWithVersions(2);
    const res = await service.fetch(`/registries/${name}/versions/3`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ type: 'urn:flake-registry:problem:unknown-version' });
  });
});
