// `npm run build:web`: bundles the pages' scripts (src/web/client), stylesheet and icon into
// src/web/assets.json: each with the versioned path it is served at (a hash of its bytes).
// The Worker's script carries none of those bytes: it imports src/web/asset-paths.json (each
// asset's path and type) and fetches the bytes from its static assets (wrangler.toml's
// [assets]), the directory dist/public this also writes, with the OpenAPI document beside
// them. Run before every `wrangler dev` and `wrangler deploy` (wrangler.toml's [build]) and
// before `npm test`; test/scripts/build-web.test.ts fails when either committed file is stale.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build, transform, type Plugin } from 'esbuild';

const root = join(import.meta.dirname, '..');
const web = join(root, 'src', 'web');
export const ASSETS_FILE = join(web, 'assets.json');
export const ASSET_PATHS_FILE = join(web, 'asset-paths.json');
/** scripts/build-openapi.ts writes it (not imported from there: that would load the schemas for a path). */
const OPENAPI_FILE = join(root, 'src', 'api', 'openapi.json');
/** The static assets' directory (wrangler.toml's `[assets] directory`): generated, never committed. */
export const PUBLIC_DIR = join(root, 'dist', 'public');

export interface Asset {
  /** Where it is served: `/assets/HASH/NAME`, never changing for these bytes. */
  readonly path: string;
  readonly contentType: string;
  readonly text: string;
}

function asset(name: string, contentType: string, text: string): Asset {
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return { path: `/assets/${hash}/${name}`, contentType, text };
}

/**
 * The core hashes synchronously with `node:crypto` (src/crypto/sha256-sync.ts), which browsers
 * lack: their bundle takes the script implementation beside it.
 */
const browserHash: Plugin = {
  name: 'browser-sha256',
  setup(b) {
    b.onResolve({ filter: /\/sha256-sync\.js$/ }, (args) => ({
      path: join(args.resolveDir, 'sha256-sync.browser.ts'),
    }));
  },
};

/** The file's text, as the build makes it from the sources today. */
export async function assetsText(): Promise<string> {
  const bundle = async (entry: string): Promise<string> => {
    const built = await build({
      entryPoints: [join(web, 'client', entry)],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [browserHash],
    });
    const js = built.outputFiles[0]?.text;
    if (js === undefined) throw new Error(`build-web: the bundle of ${entry} is empty`);
    return js;
  };
  const css = await transform(readFileSync(join(web, 'style.css'), 'utf8'), { loader: 'css', minify: true });
  const assets = {
    style: asset('web.css', 'text/css; charset=utf-8', css.code),
    script: asset('web.js', 'text/javascript; charset=utf-8', await bundle('page.ts')),
    // Only the history page loads it: the history verifier with the Nix core it replays proposals with.
    verify: asset('verify.js', 'text/javascript; charset=utf-8', await bundle('history.ts')),
    icon: asset('icon.svg', 'image/svg+xml', readFileSync(join(web, 'icon.svg'), 'utf8')),
  };
  return `${JSON.stringify(assets, null, 2)}\n`;
}

/** What the Worker's script keeps of the assets: each one's path and type, not its bytes. */
export function assetPathsText(assetsJson: string): string {
  const assets = JSON.parse(assetsJson) as Record<string, Asset>;
  const paths = Object.fromEntries(
    Object.entries(assets).map(([key, { path, contentType }]) => [key, { path, contentType }]),
  );
  return `${JSON.stringify(paths, null, 2)}\n`;
}

/**
 * What dist/public holds, by path: each asset's bytes at the path it is served at, and the
 * OpenAPI document at /openapi.json as the Worker serves it (without the file's indentation).
 */
export function publicFiles(assetsJson: string, openApiJson: string): Map<string, string> {
  const assets = JSON.parse(assetsJson) as Record<string, Asset>;
  const files = new Map(Object.values(assets).map((a) => [a.path, a.text]));
  files.set('/openapi.json', JSON.stringify(JSON.parse(openApiJson)));
  return files;
}

/** Writes `text` to `file` unless it already holds it: `wrangler dev` watches both trees and would reload. */
function writeChanged(file: string, text: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote ${relative(root, file)}`);
}

/** Every file under `dir`, as paths from it (`/assets/HASH/web.js`). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => `/${relative(dir, join(entry.parentPath, entry.name))}`);
}

if (process.argv[1] === import.meta.filename) {
  const text = await assetsText();
  writeChanged(ASSETS_FILE, text);
  writeChanged(ASSET_PATHS_FILE, assetPathsText(text));
  const files = publicFiles(text, readFileSync(OPENAPI_FILE, 'utf8'));
  // An older build's assets go: a deployment uploads the whole directory.
  for (const path of filesUnder(PUBLIC_DIR)) if (!files.has(path)) rmSync(join(PUBLIC_DIR, path));
  const versions = join(PUBLIC_DIR, 'assets');
  for (const hash of existsSync(versions) ? readdirSync(versions) : []) {
    if (readdirSync(join(versions, hash)).length === 0) rmSync(join(versions, hash), { recursive: true });
  }
  for (const [path, body] of files) writeChanged(join(PUBLIC_DIR, path), body);
}
