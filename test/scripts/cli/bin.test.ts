import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { stepJson } from '../../../src/http/routes/resolve.js';
import { audit } from '../../../src/nix/audit.js';
import type { Json } from '../../../src/nix/document.js';
import { layer } from '../../nix/lookup-helpers.js';
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

  it('audit - stops reading an endless stdin at the 1 MiB the service takes, with one line', async () => {
    const zero = openSync('/dev/zero', 'r');
    const child = spawn(process.execPath, [BIN, 'audit', '-', '--url', 'http://127.0.0.1:9'], {
      cwd: dir,
      stdio: [zero, 'pipe', 'pipe'],
    });
    closeSync(zero);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).toBe(
      'flake-registry: stdin cannot be audited: it is larger than 1048576 bytes (1 MiB), the most the service takes\n',
    );
    expect(code).toBe(1);
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

  // Each runs the bin two or three times: a slow start of Node and tsx on a busy machine is no failure.
  it('lists audit in its help, and audit --help states its exit statuses', { timeout: 60_000 }, async () => {
    expect((await bin('--help')).stdout).toMatch(/^ {2}audit +Audit a flake\.lock or a profile's manifest\.json$/m);
    const r = await bin('audit', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit status: 0 when nothing is redirected');
  });

  it(
    'audit exits 4 when the service finds an input redirected, and 1 for a file that is no lock',
    { timeout: 60_000 },
    async () => {
      const lock = {
        version: 7,
        root: 'root',
        nodes: {
          root: { inputs: { nixpkgs: 'nixpkgs' } },
          nixpkgs: {
            original: { type: 'indirect', id: 'nixpkgs' },
            locked: {
              type: 'github',
              owner: 'NixOS',
              repo: 'nixpkgs',
              rev: 'a'.repeat(40),
              narHash: `sha256-${'A'.repeat(43)}=`,
            },
          },
        },
      };
      writeFileSync(join(dir, 'flake.lock'), JSON.stringify(lock));
      writeFileSync(join(dir, 'notes.txt'), 'not a lock\n');
      // A one-route service answering as POST /audit does, through the core.
      const server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          const answer = audit(JSON.parse(body) as Json, [layer('global', [['nixpkgs', '→', 'github:me/nixpkgs']])]);
          res.writeHead(200, { 'Content-Type': 'application/json' });
          const rows = answer.rows.map((row) => ({ ...row, ...(row.steps ? { steps: row.steps.map(stepJson) } : {}) }));
          res.end(JSON.stringify({ ...answer, rows }));
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const { port } = server.address() as { port: number };
      try {
        const r = await bin('audit', 'flake.lock', '--url', `http://127.0.0.1:${port}`);
        expect(r.stdout, r.stderr).toContain('redirected (owner: NixOS -> me)');
        expect(r.stderr).toBe('flake-registry: 1 input is redirected, not found or in error: nixpkgs\n');
        expect(r.code).toBe(4);
        const bad = await bin('audit', 'notes.txt', '--url', `http://127.0.0.1:${port}`);
        expect(bad.code).toBe(1);
        expect(bad.stderr).toBe("flake-registry: 'notes.txt' cannot be audited: it is not JSON\n");
      } finally {
        await new Promise((r) => server.close(r));
      }
    },
  );
});
