import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../../../scripts/cli/io.js';
import { main } from '../../../scripts/cli/main.js';

/** The CLI run in-process with its own streams, directory and (by default) no network. */

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd: string;
  /** Where `.dev.vars` and `registries/` are looked for; cwd by default, undefined for no checkout. */
  readonly root?: string | undefined;
  readonly stdin?: string;
  readonly interactive?: boolean;
  /** Answer to a confirmation question. */
  readonly answer?: boolean;
  readonly env?: Record<string, string>;
  readonly fetch?: typeof fetch;
  readonly now?: Date;
}

export const NOW = new Date('2026-03-01T12:00:00Z');

const noNetwork: typeof fetch = () =>
  Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }));

export async function cli(argv: readonly string[], options: RunOptions): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    out: (text) => (stdout += text),
    err: (text) => (stderr += text),
    readStdin: () => Promise.resolve(options.stdin ?? ''),
    readStdinUpTo: (maxBytes) => Promise.resolve(Buffer.from(options.stdin ?? '').subarray(0, maxBytes)),
    confirm: () => Promise.resolve(options.answer ?? false),
    interactive: options.interactive ?? false,
    progress: false,
    env: options.env ?? {},
    cwd: options.cwd,
    root: 'root' in options ? options.root : options.cwd,
    fetch: options.fetch ?? noNetwork,
    now: () => options.now ?? NOW,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'flake-registry-cli-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** RFC 8032 TEST 1 as a Nix key (docs/protocol.md's worked example). */
export const TEST_SECRET =
  'maintainer-1:nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==';
export const TEST_PUBLIC = 'maintainer-1:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=';
