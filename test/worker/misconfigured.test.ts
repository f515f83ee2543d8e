import { describe, expect, it, vi } from 'vitest';
import { fetchWorker } from './helpers.js';

// The test entry (worker.ts) embeds `broken`, a file Nix would read only in part.
describe('an embedded registry that can never be published', () => {
  it.each([
    ['its latest file', '/registries/broken/flake-registry.json'],
    ['a version of it', '/registries/broken/versions/1/flake-registry.json'],
    ['its history', '/registries/broken/versions'],
    ['a resolution through it', '/resolve?ref=ok&registry=broken'],
  ])('answers %s with 500 registry-misconfigured naming the entry, never a retry', async (_, path) => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await fetchWorker(path);
    logged.mockRestore();
    expect(res.status).toBe(500);
    expect(res.headers.get('Retry-After')).toBeNull();
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const body = await res.json<{ type: string; detail: string; registry: string }>();
    expect(body.type).toBe('urn:flake-registry:problem:registry-misconfigured');
    expect(body.registry).toBe('broken');
    expect(body.detail).toContain('registries/broken.json');
    expect(body.detail).toContain("from 'flake:bad'");
    expect(body.detail).toContain('type must be boolean');
    expect(body.detail).not.toMatch(/try again/i);
  });

  it('takes no other registry down', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    await fetchWorker('/registries/broken/flake-registry.json');
    logged.mockRestore();
    expect((await fetchWorker('/flake-registry.json')).status).toBe(200);
    expect((await fetchWorker('/resolve?ref=nixpkgs')).status).toBe(200);
    const listing = await fetchWorker('/registries');
    expect(listing.status).toBe(200);
    const { registries } = await listing.json<{ registries: { name: string; version?: number }[] }>();
    expect(registries.find((r) => r.name === 'global')?.version).toBeGreaterThanOrEqual(1);
  });
});
