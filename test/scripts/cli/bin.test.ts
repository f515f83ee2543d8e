import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_PUBLIC, tempDir } from './helpers.js';

/** The installed command: `node scripts/cli/bin.mjs`, as `npx flake-registry` runs it, with real exit codes. */

const BIN = join(import.meta.dirname, '..', '..', '..', 'scripts', 'cli', 'bin.mjs');
const { dir, remove } = tempDir();
afterAll(remove);

async function bin(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, FLAKE_REGISTRY_URL: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the flake-registry bin', () => {
  it('runs on Node without a build step: --help exits 0', async () => {
    const r = await bin('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: flake-registry COMMAND');
    expect(r.stderr).toBe('');
  });

  it('exits 2 with one line for a usage error', async () => {
    const r = await bin('upload', '--registry');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("flake-registry: option '--registry' needs a value (see flake-registry upload --help)\n");
  });

  it('exits 1 with one line and no stack trace for a public key given as a secret one', async () => {
    writeFileSync(join(dir, 'alice.pub'), `${TEST_PUBLIC}\n`);
    const r = await bin('approve', 'a'.repeat(64), '--registry', 'global', '--key', 'alice.pub', '--yes');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^flake-registry: key file 'alice.pub' holds a public key; [^\n]*\n$/);
  });

  it('exits 1 naming the URL when no service answers there', async () => {
    const r = await bin('status', '--url', 'http://127.0.0.1:9');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^flake-registry: cannot reach the service at http:\/\/127\.0\.0\.1:9: [^\n]*\n$/);
  });

  it('writes a key pair and reads it back', async () => {
    const made = await bin('keygen', '--name', 'ci', '--out', 'ci.sec');
    expect(made.code).toBe(0);
    expect((await bin('pubkey', 'ci.sec')).stdout).toBe(made.stdout);
  });
});
