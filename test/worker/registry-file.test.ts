import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/crypto/sha256.js';
import { readRegistry, writeRegistry } from '../../src/nix/registry.js';
import { CREATED, overlayRegistry, teamRegistry, TEST_POLICY } from './fixtures.js';
import { publish, serve, uniqueName } from './helpers.js';

async function oneRegistry() {
  const name = uniqueName();
  const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
  const body = writeRegistry(readRegistry(JSON.stringify(teamRegistry)));
  return { name, service, body, etag: `"${await sha256Hex(body)}"`, latest: `/registries/${name}/flake-registry.json` };
}

describe('latest registry file', () => {
  it('serves version 1 of an embedded registry in canonical bytes with a strong ETag', async () => {
    const { service, body, etag, latest } = await oneRegistry();
    const res = await service.fetch(latest);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(await res.text()).toBe(body);
    expect(res.headers.get('ETag')).toBe(etag);
    expect(res.headers.get('X-Registry-Version')).toBe('1');
    expect(res.headers.get('Last-Modified')).toBe(new Date(CREATED).toUTCString());
    expect(res.headers.get('Content-Length')).toBe(String(new TextEncoder().encode(body).byteLength));
  });

  it("caches for Nix's tarball-ttl from TARBALL_TTL, with stale-if-error", async () => {
    const { service, latest } = await oneRegistry();
    const res = await service.fetch(latest);
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=3600, stale-if-error=86400');
  });

  it('answers 304 when If-None-Match carries the ETag, repeating the ETag and sending no body', async () => {
    const { service, etag, latest } = await oneRegistry();
    const res = await service.fetch(latest, { headers: { 'If-None-Match': etag } });
    expect(res.status).toBe(304);
    expect(res.headers.get('ETag')).toBe(etag);
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=3600, stale-if-error=86400');
    expect(res.headers.get('X-Registry-Version')).toBe('1');
    expect(await res.text()).toBe('');
  });

  it.each([
    ['a weak form of the ETag', (e: string) => `W/${e}`],
    ['a list containing the ETag', (e: string) => `"0000", ${e}, "ffff"`],
    ['*', () => '*'],
    ['the ETag after a member that is not an entity-tag', (e: string) => `garbage, ${e}`],
  ])('answers 304 for If-None-Match with %s', async (_, header) => {
    const { service, etag, latest } = await oneRegistry();
    const res = await service.fetch(latest, { headers: { 'If-None-Match': header(etag) } });
    expect(res.status).toBe(304);
  });

  it('answers 200 with the body when If-None-Match names other content', async () => {
    const { service, body, latest } = await oneRegistry();
    const res = await service.fetch(latest, { headers: { 'If-None-Match': '"deadbeef"' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(body);
  });

  it('honours If-Modified-Since, but not when If-None-Match is present', async () => {
    const { service, latest } = await oneRegistry();
    const after = new Date(Date.parse(CREATED) + 1000).toUTCString();
    const before = new Date(Date.parse(CREATED) - 1000).toUTCString();
    expect((await service.fetch(latest, { headers: { 'If-Modified-Since': after } })).status).toBe(304);
    expect(
      (await service.fetch(latest, { headers: { 'If-Modified-Since': new Date(CREATED).toUTCString() } })).status,
    ).toBe(304);
    expect((await service.fetch(latest, { headers: { 'If-Modified-Since': before } })).status).toBe(200);
    expect((await service.fetch(latest, { headers: { 'If-Modified-Since': 'not a date' } })).status).toBe(200);
    const both = await service.fetch(latest, { headers: { 'If-Modified-Since': after, 'If-None-Match': '"other"' } });
    expect(both.status).toBe(200);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const { service, etag, latest, body } = await oneRegistry();
    const res = await service.fetch(latest, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('ETag')).toBe(etag);
    expect(res.headers.get('Content-Length')).toBe(String(new TextEncoder().encode(body).byteLength));
    expect(await res.text()).toBe('');
  });

  it('lets pages on other origins read it, ETag and version included', async () => {
    const { service, latest } = await oneRegistry();
    const res = await service.fetch(latest, { headers: { Origin: 'https://example.org' } });
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(res.headers.get('Access-Control-Expose-Headers')).toContain('ETag');
    expect(res.headers.get('Access-Control-Expose-Headers')).toContain('X-Registry-Version');
    const revalidated = await service.fetch(latest, { headers: { 'If-None-Match': res.headers.get('ETag') ?? '' } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get('Access-Control-Allow-Origin')).toBe('*');
  });

  it('answers a CORS preflight for conditional requests', async () => {
    const { service, latest } = await oneRegistry();
    const res = await service.fetch(latest, {
      method: 'OPTIONS',
      headers: { Origin: 'https://example.org', 'Access-Control-Request-Headers': 'if-none-match' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Headers')).toContain('If-None-Match');
    expect(res.headers.get('Access-Control-Allow-Methods')).toBe('GET, HEAD');
  });

  it('follows the head to the newest version', async () => {
    const { name, service, latest } = await oneRegistry();
    await service.fetch(latest);
    const fresh = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const v2 = await publish(name, 2, overlayRegistry, '2026-03-02T00:00:00.000Z');
    const res = await fresh.fetch(latest);
    expect(res.headers.get('X-Registry-Version')).toBe('2');
    expect(res.headers.get('ETag')).toBe(`"${v2.sha256}"`);
    expect(readRegistry(await res.text()).entries).toHaveLength(2);
  });

  it('answers 404 problem+json for a registry that is not hosted', async () => {
    const { service } = await oneRegistry();
    const res = await service.fetch('/registries/nothing-here/flake-registry.json');
    expect(res.status).toBe(404);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(await res.json()).toMatchObject({ type: 'urn:flake-registry:problem:unknown-registry', status: 404 });
    // Errors are readable from other origins too, so pages can show them.
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
  });
});

describe('versioned registry files', () => {
  it('serves every version byte-identical forever with immutable caching', async () => {
    const { name, service, body, etag } = await oneRegistry();
    await service.fetch(`/registries/${name}/flake-registry.json`);
    await publish(name, 2, overlayRegistry, '2026-03-02T00:00:00.000Z');
    const fresh = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const res = await fresh.fetch(`/registries/${name}/versions/1/flake-registry.json`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(body);
    expect(res.headers.get('ETag')).toBe(etag);
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('X-Registry-Version')).toBe('1');
    const revalidated = await fresh.fetch(`/registries/${name}/versions/1/flake-registry.json`, {
      headers: { 'If-None-Match': etag },
    });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
  });

  it.each([
    ['a version after the latest', '2', 404, 'unknown-version'],
    ['version 0', '0', 400, 'invalid-request'],
    ['a version that is not a number', 'latest', 400, 'invalid-request'],
    ['a negative version', '-1', 400, 'invalid-request'],
  ])('refuses %s with problem+json', async (_, version, status, kind) => {
    const { name, service } = await oneRegistry();
    const res = await service.fetch(`/registries/${name}/versions/${version}/flake-registry.json`);
    expect(res.status).toBe(status);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    const problem = await res.json<{ type: string; detail: string }>();
    expect(problem.type).toBe(`urn:flake-registry:problem:${kind}`);
    expect(problem.detail).not.toBe('');
  });
});
