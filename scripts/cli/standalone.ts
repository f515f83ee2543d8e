import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processIo } from './io.js';
import { run } from './main.js';

/**
 * The one-file command (dist/flake-registry.mjs, made by scripts/build-cli.ts) starts here. The
 * file may sit in a checkout's dist/, in an installed package, or alone on a machine that holds
 * keys and nothing else; only in a checkout are there a .dev.vars for `trust-local` and the
 * registries/ files `status` compares.
 */

const PACKAGE_NAME = 'flake-registry-service';

/** The checkout whose dist/ (or other folder) holds `file`, or undefined when it is not in one. */
export function checkoutOf(file: string): string | undefined {
  const root = dirname(dirname(file));
  // An installed package has this package.json too, but none of the Worker's files.
  if (!existsSync(join(root, 'wrangler.toml'))) return undefined;
  try {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: unknown };
    return manifest.name === PACKAGE_NAME ? root : undefined;
  } catch {
    return undefined; // no package.json, or not JSON: not a checkout of this project
  }
}

/** Runs the command as the file at `moduleUrl` (the bundle's own `import.meta.url`). */
export async function runStandalone(moduleUrl: string): Promise<void> {
  await run({ ...processIo(), root: checkoutOf(fileURLToPath(moduleUrl)) });
}
