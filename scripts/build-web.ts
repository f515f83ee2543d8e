// `npm run build:web`: bundles the pages' scripts (src/web/client), stylesheet and icon into
// src/web/assets.json, which the Worker imports: each with the versioned path it is served
// at (a hash of its bytes). Run before every `wrangler dev` and `wrangler deploy` (wrangler.toml's
// [build]) and before `npm test`; test/scripts/build-web.test.ts fails when the file is stale.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, transform, type Plugin } from 'esbuild';

const web = join(import.meta.dirname, '..', 'src', 'web');
export const ASSETS_FILE = join(web, 'assets.json');

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

if (process.argv[1] === import.meta.filename) {
  const text = await assetsText();
  // Written only when it changes: `wrangler dev` watches src/ and would build again.
  if (!existsSync(ASSETS_FILE) || readFileSync(ASSETS_FILE, 'utf8') !== text) {
    writeFileSync(ASSETS_FILE, text);
    console.log(`wrote ${ASSETS_FILE}`);
  }
}
