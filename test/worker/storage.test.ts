import { runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { kvKeys } from '../../src/store/layout.js';
import { CREATED, teamRegistry, TEST_POLICY } from './fixtures.js';
import { countingKv, failingKv, publish, serve, uniqueName } from './helpers.js';

describe('storage', () => {
  it('writes version 1 of an embedded registry to KV before its head, on first read', async () => {
    const name = uniqueName();
    expect(await env.REGISTRY_KV.get(kvKeys.head(name))).toBeNull();
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const res = await service.fetch(`/registries/${name}/flake-registry.json`);
    const head = await env.REGISTRY_KV.get<{ version: number; sha256: string }>(kvKeys.head(name), 'json');
    expect(head).toMatchObject({ version: 1, sha256: res.headers.get('ETag')?.slice(1, -1) });
    expect(await env.REGISTRY_KV.get(kvKeys.versionFile(name, 1))).toBe(await res.text());
    expect(await env.REGISTRY_KV.get(kvKeys.versionRecord(name, 1), 'json')).toMatchObject({
      version: 1,
      parent: null,
    });
  });

  it("keeps answering from the writer's head when KV lost it, and writes it back", async () => {
    const name = uniqueName();
    const embedded = [{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }];
    const first = await serve(embedded).fetch(`/registries/${name}/flake-registry.json`);
    await env.REGISTRY_KV.delete(kvKeys.head(name));
    const res = await serve(embedded).fetch(`/registries/${name}/flake-registry.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('ETag')).toBe(first.headers.get('ETag'));
    // Written again from the alarm: the last head write is under a second old, and KV takes
    // one write a second per key.
    await scheduler.wait(1_100);
    await runDurableObjectAlarm(env.REGISTRY_WRITER.get(env.REGISTRY_WRITER.idFromName(name)));
    expect(await env.REGISTRY_KV.get(kvKeys.head(name), 'json')).toMatchObject({ version: 1 });
  });

  it('makes no KV read for a warm request', async () => {
    const name = uniqueName();
    const counter = countingKv(env.REGISTRY_KV);
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }], { kv: counter.kv });
    const paths = [
      `/registries/${name}/flake-registry.json`,
      `/registries/${name}/versions/1/flake-registry.json`,
      `/resolve?ref=nixpkgs&registry=${name}`,
      `/resolve?ref=a&registry=${name}@1`,
    ];
    const coldBodies = [];
    for (const path of paths) coldBodies.push(await (await service.fetch(path)).text());
    const cold = counter.reads();
    expect(cold).toBeGreaterThan(0);
    for (const [i, path] of paths.entries()) {
      const res = await service.fetch(path);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(coldBodies[i]);
    }
    expect(counter.reads()).toBe(cold);
  });

  it('answers requests that arrive together while a version is cold, then reads it no more', async () => {
    const name = uniqueName();
    const embedded = [{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }];
    await serve(embedded).fetch(`/registries/${name}/flake-registry.json`);
    const counter = countingKv(env.REGISTRY_KV);
    const service = serve(embedded, { kv: counter.kv });
    const path = `/registries/${name}/versions/1/flake-registry.json`;
    const answers = await Promise.all([service.fetch(path), service.fetch(path), service.fetch(path)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    const reads = counter.reads();
    // Loads are not shared between requests (a load dies with its request), so each may read once.
    expect(counter.keys.filter((k) => k === kvKeys.versionFile(name, 1)).length).toBeLessThanOrEqual(3);
    expect((await service.fetch(path)).status).toBe(200);
    expect(counter.reads()).toBe(reads);
  });

  it('lists history from version records without reading any file', async () => {
    const name = uniqueName();
    const embedded = [{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }];
    await serve(embedded).fetch(`/registries/${name}/flake-registry.json`);
    for (let n = 2; n <= 4; n++) await publish(name, n, teamRegistry, `2026-03-0${n}T00:00:00.000Z`);
    const counter = countingKv(env.REGISTRY_KV);
    const res = await serve(embedded, { kv: counter.kv }).fetch(`/registries/${name}/versions`);
    expect(res.status).toBe(200);
    expect(counter.keys.filter((k) => k.endsWith('/file'))).toEqual([]);
    for (let n = 1; n <= 4; n++) expect(counter.keys).toContain(kvKeys.versionRecord(name, n));
    // The registry list and the history page as well.
    for (const path of ['/registries', `/r/${name}/history`]) {
      expect((await serve(embedded, { kv: counter.kv }).fetch(path)).status).toBe(200);
    }
    expect(counter.keys.filter((k) => k.endsWith('/file'))).toEqual([]);
  });

  it('reads the head again once its memory copy is older than the head TTL', async () => {
    const name = uniqueName();
    const counter = countingKv(env.REGISTRY_KV);
    let now = 1_000_000;
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }], {
      kv: counter.kv,
      now: () => now,
    });
    await service.fetch(`/registries/${name}/flake-registry.json`);
    const cold = counter.reads();
    now += 29_000;
    await service.fetch(`/registries/${name}/flake-registry.json`);
    expect(counter.reads()).toBe(cold);
    now += 2_000;
    await service.fetch(`/registries/${name}/flake-registry.json`);
    expect(counter.reads()).toBe(cold + 1);
  });

  it.each([
    ['the latest file', (n: string) => `/registries/${n}/flake-registry.json`],
    ['a versioned file', (n: string) => `/registries/${n}/versions/1/flake-registry.json`],
    ['a resolution', (n: string) => `/resolve?ref=a&registry=${n}`],
    ['the registry list', () => '/registries'],
  ])('answers 503, never 404, when KV fails while serving %s', async (_, path) => {
    const name = uniqueName();
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }], { kv: failingKv() });
    const res = await service.fetch(path(name));
    expect(res.status).toBe(503);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    expect(res.headers.get('Retry-After')).toBe('5');
    const body = await res.json<{ type: string; detail: string }>();
    expect(body.type).toBe('urn:flake-registry:problem:storage-unavailable');
    expect(body.detail).not.toContain('KV is unavailable');
    // The cause goes to the Worker's log for the operator instead.
    expect(logged).toHaveBeenCalled();
    logged.mockRestore();
  });
});
