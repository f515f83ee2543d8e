import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './server.js';

/** `flake-registry` as a machine runs it: `node scripts/cli/bin.mjs`, with real exit codes. */

const BIN = join(REPO_ROOT, 'scripts', 'cli', 'bin.mjs');

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the command in `cwd` against the service at `url` (FLAKE_REGISTRY_URL), stdin closed. */
export function runCli(args: readonly string[], cwd: string, url: string): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env, FLAKE_REGISTRY_URL: url };
    const child = execFile(process.execPath, [BIN, ...args], { cwd, env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}
