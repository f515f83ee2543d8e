import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ASSET_PATHS_FILE, ASSETS_FILE, assetPathsText, assetsText, publicFiles } from '../../scripts/build-web.js';

describe('the web pages’ assets', () => {
  it('are what the sources make today (npm run build:web writes them)', async () => {
    const text = await assetsText();
    expect(readFileSync(ASSETS_FILE, 'utf8'), 'src/web/assets.json is stale: run npm run build:web').toBe(text);
    const assets = JSON.parse(text) as Record<string, { path: string; text: string }>;
    // Each path names its bytes: a change of either is a new URL, so caching them for good is safe.
    expect(Object.values(assets).map((a) => a.path)).toEqual([
      expect.stringMatching(/^\/assets\/[0-9a-f]{16}\/web\.css$/),
      expect.stringMatching(/^\/assets\/[0-9a-f]{16}\/web\.js$/),
      expect.stringMatching(/^\/assets\/[0-9a-f]{16}\/verify\.js$/),
      expect.stringMatching(/^\/assets\/[0-9a-f]{16}\/icon\.svg$/),
    ]);
    // The script every page loads is small; the history page's carries the verifier and the Nix core.
    expect(assets['script']?.text.length).toBeLessThan(30_000);
    expect(assets['verify']?.text.length).toBeLessThan(400_000);
    // Neither builds markup from text, nor evaluates text as code (the policy would refuse it).
    for (const script of [assets['script'], assets['verify']]) {
      expect(script?.text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|Function\(/);
    }
  });

  it('leave only their paths and types in the Worker’s script, and their bytes in the static assets', async () => {
    const text = await assetsText();
    const paths = assetPathsText(text);
    expect(readFileSync(ASSET_PATHS_FILE, 'utf8'), 'src/web/asset-paths.json is stale: run npm run build:web').toBe(
      paths,
    );
    const assets = JSON.parse(text) as Record<string, { path: string; contentType: string; text: string }>;
    expect(JSON.parse(paths)).toEqual(
      Object.fromEntries(Object.entries(assets).map(([k, a]) => [k, { path: a.path, contentType: a.contentType }])),
    );
    const openApi = '{\n  "openapi": "3.1.0",\n  "info": { "title": "t" }\n}\n';
    const files = publicFiles(text, openApi);
    expect([...files.keys()]).toEqual([...Object.values(assets).map((a) => a.path), '/openapi.json']);
    for (const a of Object.values(assets)) expect(files.get(a.path)).toBe(a.text);
    // The document as the Worker serves it: the file's members in its order, without its indentation.
    expect(files.get('/openapi.json')).toBe('{"openapi":"3.1.0","info":{"title":"t"}}');
  });
});
