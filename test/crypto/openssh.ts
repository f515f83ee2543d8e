import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * Running the real OpenSSH (ssh-keygen, ssh-agent, ssh-add) in tests. Suites that need it
 * are skipped when ssh-keygen is not on PATH, and fail instead under CI=true, as the
 * conformance suite does for Nix (.ci/run installs openssh-client).
 */

export function opensshVersion(): string | undefined {
  const probe = spawnSync('ssh-keygen', ['-?'], { encoding: 'utf8' });
  if (probe.error !== undefined) return undefined;
  const version = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
  return version.error === undefined ? version.stderr.trim() : 'ssh-keygen';
}

/** `describe`, or a failing placeholder under CI=true when OpenSSH is missing. */
export function describeWithOpenSsh(name: string, body: () => void): void {
  const version = opensshVersion();
  if (version === undefined) {
    if (process.env['CI'] === 'true') {
      describe(name, () => {
        it('finds ssh-keygen on PATH (required when CI=true; .ci/run installs openssh-client)', () => {
          expect.fail('ssh-keygen is not on PATH');
        });
      });
    } else {
      console.warn(`${name}: skipped, ssh-keygen is not on PATH (apt-get install openssh-client, or run .ci/run)`);
      describe.skip(name, body);
    }
    return;
  }
  describe(`${name} (${version})`, body);
}

/**
 * An environment for OpenSSH that ignores the developer's own: no agent, no askpass, no
 * display, so nothing prompts or reaches keys outside the test.
 */
export function isolatedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, ...extra };
}

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd: string;
  readonly input?: string | Uint8Array;
  readonly env?: Record<string, string>;
  /** A session of its own (setsid): no controlling terminal to prompt on. */
  readonly detached?: boolean;
}

export function run(program: string, args: readonly string[], options: RunOptions): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [...args], {
      cwd: options.cwd,
      env: options.env ?? isolatedEnv(),
      detached: options.detached ?? false,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** `run`, failing with the program's stderr unless it exits 0. */
export async function ok(program: string, args: readonly string[], options: RunOptions): Promise<string> {
  const ran = await run(program, args, options);
  if (ran.code !== 0) throw new Error(`${program} ${args.join(' ')} exited ${ran.code}: ${ran.stderr}`);
  return ran.stdout;
}
