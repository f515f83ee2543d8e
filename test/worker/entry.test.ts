import { describe, expect, it } from 'vitest';
import { fetchWorker } from './helpers.js';
import { readRegistry, writeRegistry } from '../../src/nix/registry.js';
import global from '../../registries/global.json';

// The deployed entry point, as `npm start` runs it, over the embedded registries.

describe('the Worker entry', () => {
  it('serves the API document with an ETag and no made-up Last-Modified, so a date never hides a new one', async () => {
    const res = await fetchWorker('/openapi.json');
    expect(res.status).toBe(200);
    const etag = res.headers.get('ETag') ?? '';
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(res.headers.get('Last-Modified')).toBeNull();
    expect((await res.json<{ openapi: string }>()).openapi).toMatch(/^3\.1\./);
    const since = await fetchWorker('/openapi.json', {
      headers: { 'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' },
    });
    expect(since.status).toBe(200);
    await since.arrayBuffer();
    expect((await fetchWorker('/openapi.json', { headers: { 'If-None-Match': etag } })).status).toBe(304);
  });

  it('answers /healthz without touching storage', async () => {
    const res = await fetchWorker('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.get('Cache-Control')).toBe('no-store');
  });

  it('serves registries/global.json as /flake-registry.json, in canonical form', async () => {
    const res = await fetchWorker('/flake-registry.json');
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toBe(writeRegistry(readRegistry(JSON.stringify(global))));
    expect(res.headers.get('X-Registry-Version')).toBe('1');
  });

  it('revalidates /flake-registry.json with a 304', async () => {
    const first = await fetchWorker('/flake-registry.json');
    const etag = first.headers.get('ETag') ?? '';
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    const again = await fetchWorker('/flake-registry.json', { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('ETag')).toBe(etag);
  });

  it('resolves nixpkgs through the global registry', async () => {
    const res = await fetchWorker('/resolve?ref=nixpkgs');
    expect(res.status).toBe(200);
    const body = await res.json<{ resolved: { attrs: { type: string } } }>();
    expect(body.resolved.attrs.type).toBe('github');
  });

  it('answers unknown routes with 404 problem+json', async () => {
    const res = await fetchWorker('/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  });
});
