import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copySourceTree } from '../../scripts/source-tree.js';

const root = join(import.meta.dirname, '..', '..');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { cwd, env, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/**
 * `npm pack` as a release is made, from a copy of the files a clone holds (the checkout's own
 * dist/ is left alone), and the tarball installed with `npm install -g --prefix` where nothing
 * can be fetched: the command it installs needs none of the development dependencies. Every
 * npm runs with an environment of PATH and HOME only, so that none of the npm_config_* of an
 * `npm test` around this reaches it (local-prefix would point it at the checkout).
 */
describe('npm pack and npm install -g of the tarball', { timeout: 120_000 }, () => {
  let work: string;
  let tarball: string;
  let prefix: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'flake-registry-pack-'));
    const source = join(work, 'source');
    copySourceTree(root, source);
    symlinkSync(join(root, 'node_modules'), join(source, 'node_modules'));
    env = { PATH: process.env['PATH'], HOME: mkdtempSync(join(work, 'home-')) };
    const out = join(work, 'out');
    mkdirSync(out);
    const packed = await run('npm', ['pack', '--pack-destination', out], source, env);
    expect(packed.code, packed.stderr).toBe(0);
    const [file, ...more] = readdirSync(out);
    expect(more).toEqual([]);
    tarball = join(out, file ?? '');
    prefix = join(work, 'prefix');
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('packs the one-file command, its launcher, package.json and the README, and no source', async () => {
    const listed = await run('tar', ['-tzf', tarball], work, env);
    expect(listed.stdout.trim().split('\n').sort()).toEqual([
      'package/README.md',
      'package/dist/flake-registry.mjs',
      'package/package.json',
      'package/scripts/cli/bin.mjs',
    ]);
  });

  it('installs offline into a prefix, with no dependencies, and the command runs', async () => {
    // Only Node's own directory on PATH: no tsx, no node_modules/.bin of the checkout.
    const bare = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: env['HOME'] };
    const empty = mkdtempSync(join(work, 'cwd-'));
    const installed = await run(
      'npm',
      ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball],
      empty,
      bare,
    );
    expect(installed.code, installed.stderr).toBe(0);
    const pkg = join(prefix, 'lib', 'node_modules', 'flake-registry-service');
    expect(existsSync(join(pkg, 'node_modules'))).toBe(false);
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest['dependencies']).toBeUndefined();

    const bin = join(prefix, 'bin', 'flake-registry');
    const help = await run(bin, ['--help'], empty, bare);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('usage: flake-registry COMMAND');
    const made = await run(bin, ['keygen', '--name', 'carol', '--out', 'carol.sec'], empty, bare);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/^carol:[A-Za-z0-9+/]{43}=\n$/);
    expect((await run(bin, ['pubkey', 'carol.sec'], empty, bare)).stdout).toBe(made.stdout);
  });
});
