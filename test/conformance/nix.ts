import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';

import type { OutcomeKind } from './cases.js';

/**
 * Running the real Nix (Debian's nix-bin 2.8.0) as the oracle, offline and isolated:
 *
 * - HOME, XDG_CACHE_HOME and XDG_CONFIG_HOME point at fresh directories per run, so no
 *   user registry, no cached global registry and no fetcher cache leak between runs.
 * - NIX_CONF_DIR is an empty directory: /etc/nix/nix.conf and the system registry
 *   /etc/nix/registry.json are not read.
 * - `store = DIR` is a local store rooted at DIR (store paths still print as
 *   /nix/store/...). It needs no daemon and no root, and leaves /nix alone; fetching
 *   git+file and path inputs into it works without a network. Nix processes share it
 *   safely (its SQLite database is locked per operation).
 * - `substituters =` keeps Nix from asking cache.nixos.org for anything.
 */

export function nixAvailable(): string | undefined {
  try {
    return execFileSync('nix', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

export interface NixRunner {
  /**
   * Creates the store. Two Nix processes creating a fresh store at once race
   * ("creating symlink … gcroots/profiles …: File exists"), so this runs once, alone,
   * before anything runs in parallel.
   */
  init(): Promise<void>;
  /** A fresh HOME/cache/config for one command, or a named one reused across commands. */
  env(home?: string): NodeJS.ProcessEnv;
  run(args: readonly string[], home?: string): Promise<NixResult>;
}

export interface NixResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function nixRunner(root: string, registryUrl: string): NixRunner {
  const confDir = join(root, 'nix-conf');
  const store = join(root, 'nix-store');
  mkdirSync(confDir, { recursive: true });
  mkdirSync(store, { recursive: true });
  const homes = join(root, 'homes');
  mkdirSync(homes, { recursive: true });

  const env = (home?: string): NodeJS.ProcessEnv => {
    const dir = home ?? mkdtempSync(join(homes, 'run-'));
    mkdirSync(dir, { recursive: true });
    const base: NodeJS.ProcessEnv = {};
    for (const k of ['PATH', 'LANG', 'TMPDIR']) if (process.env[k] !== undefined) base[k] = process.env[k];
    return {
      ...base,
      HOME: dir,
      XDG_CACHE_HOME: join(dir, 'cache'),
      XDG_CONFIG_HOME: join(dir, 'config'),
      NIX_CONF_DIR: confDir,
      NIX_CONFIG: [
        'experimental-features = nix-command flakes',
        `flake-registry = ${registryUrl}`,
        // Revalidate the global registry on every command (src/libstore/filetransfer.cc, src/libfetchers/registry.cc).
        'tarball-ttl = 0',
        `store = ${store}`,
        'substituters =',
        'warn-dirty = false',
      ].join('\n'),
    };
  };

  const run = (args: readonly string[], home?: string): Promise<NixResult> =>
    new Promise((resolve) => {
      execFile('nix', [...args], { env: env(home), encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      });
    });

  const init = async (): Promise<void> => {
    const out = await run(['store', 'ping']);
    if (out.code !== 0) throw new Error(`nix store ping failed: ${out.stderr}`);
  };

  return { init, env, run };
}

/** Runs `jobs` with at most `limit` in flight, keeping their order in the result. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface Failure {
  readonly kind: Exclude<OutcomeKind, 'ok'> | 'other';
  /** The flake ref quoted in the message (the ref looked up, or the input refused). */
  readonly subject: string | undefined;
  readonly message: string;
}

// Nix's error texts (src/libfetchers/registry.cc, src/libflake/flakeref.cc) and the kind each one means. The same
// table reads Nix's stderr and the service's problem `detail`, which carries Nix's text.
const PATTERNS: readonly [RegExp, Failure['kind']][] = [
  [/cannot find flake '([^']*)' in the flake registries/, 'not-found'],
  [/cycle detected in flake registry for '([^']*)'/, 'cycle'],
  [/Git input '([^']*)' has a commit hash but no branch\/tag name/, 'override'],
  [/cannot apply both a commit hash \([0-9a-f]+\) and a branch\/tag name \('[^']*'\) to input '([^']*)'/, 'override'],
  [/don't know how to set (?:branch\/tag name|revision) of input '([^']*)'/, 'override'],
  [/in flake URL '([^']*)', '[^']*' is not a commit hash/, 'invalid-ref'],
  [/'([^']*)' is not a commit hash/, 'invalid-ref'],
  [/invalid flake reference '([^']*)'/, 'invalid-ref'],
  [/input '([^']*)' is unsupported/, 'invalid-ref'],
];

export function classifyError(text: string): Failure {
  const message = text
    .split('\n')
    .map((l) => l.replace(/^error: /, '').trim())
    .filter((l) => l !== '' && !l.startsWith('warning:'))
    .join('\n');
  for (const [re, kind] of PATTERNS) {
    const m = re.exec(message);
    if (m) return { kind, subject: m[1], message };
  }
  return { kind: 'other', subject: undefined, message };
}

/**
 * A flake URL as comparable parts. 2.8 and current Nix print query values with
 * different escaping (2.8: lowercase hex, `/` escaped; current: uppercase, `/` kept),
 * so URLs are compared after decoding and sorting their parameters, never as strings.
 */
export function normalizeUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const pairs = [...params.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${url.slice(0, q)}?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`;
}
