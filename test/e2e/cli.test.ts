import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRegistry, writeRegistry } from '../../src/nix/registry.js';
import { freePort, startDevServer, type DevServer } from '../../scripts/dev-server.js';
import { cli as inProcess } from '../scripts/cli/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const BIN = join(root, 'scripts', 'cli', 'bin.mjs');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The admin CLI as a maintainer uses it, against a local server started the
 * way `npm start` starts it. The keys it makes are trusted the way the README
 * says (`trust-local` writes DEV_TRUSTED_KEYS), but into a .dev.vars of a
 * temporary directory: the checkout's own is never touched, and the value
 * reaches `wrangler dev` as `--var DEV_TRUSTED_KEYS:...` instead.
 */
// Each step runs the bin as a new process (about a second each).
describe('flake-registry against a local server', { timeout: 60_000 }, () => {
  let work: string;
  let server: DevServer;
  let env: Record<string, string | undefined>;

  /** Runs the bin with stdin closed at once (empty), as in a pipeline that gives it nothing. */
  function cli(...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      const child = execFile(process.execPath, [BIN, ...args], { cwd: work, env }, (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
      child.stdin?.end();
    });
  }

  async function ok(...args: string[]): Promise<string> {
    const r = await cli(...args);
    // The server's own output goes with a failure: a request it never answered is its story.
    expect(r.stderr, `flake-registry ${args.join(' ')}${r.stderr === '' ? '' : `\nserver:\n${server.log()}`}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  }

  async function json<T>(...args: string[]): Promise<T> {
    return JSON.parse(await ok(...args, '--json')) as T;
  }

  const key = (name: string) => ['--registry', 'global', '--key', `${name}.sec`];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'flake-registry-cli-e2e-'));
    env = { ...process.env, FLAKE_REGISTRY_URL: undefined };
    for (const name of ['alice', 'bob', 'mallory']) await ok('keygen', '--name', name, '--out', `${name}.sec`);
    await ok('keygen', '--name', 'localhost', '--out', 'log.sec');
    const logKey = readFileSync(join(work, 'log.sec'), 'utf8').trim();
    // `trust-local` writes the .dev.vars of the checkout it belongs to; run in-process with the
    // work directory standing in for the checkout, so the real one is left without a .dev.vars.
    const pubs = await Promise.all(['alice', 'bob'].map(async (n) => (await ok('pubkey', `${n}.sec`)).trim()));
    const trusted = await inProcess(['trust-local', ...pubs], { cwd: work, root: work });
    expect(trusted.code, trusted.stderr).toBe(0);
    const devVars = readFileSync(join(work, '.dev.vars'), 'utf8');
    const value = /^DEV_TRUSTED_KEYS="(.*)"$/m.exec(devVars)?.[1];
    expect(value).toBe(pubs.join(' '));
    server = await startDevServer({
      root,
      persistTo: join(work, 'state'),
      args: ['--var', `DEV_TRUSTED_KEYS:${value ?? ''}`, '--var', `LOG_SIGNING_KEY:${logKey}`, '--log-level', 'warn'],
    });
    env = { ...env, FLAKE_REGISTRY_URL: server.origin };
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  let first = '';

  it('proposes a change, which merges when a second maintainer approves it', async () => {
    expect(await ok('status')).toMatch(/^global: version 1, \d+ entries, 0 open proposals\n/);
    expect(await ok('resolve', 'nixpkgs/nixos-25.05')).toBe('github:NixOS/nixpkgs/nixos-25.05\n');

    const view = await json<{ id: string; status: string; approvals: { missing: number } }>(
      'propose',
      'set',
      'nixpkgs/nixos-25.05',
      'github:NixOS/nixpkgs/release-25.05',
      '--exact',
      '--before',
      'nixpkgs',
      ...key('alice'),
      '--message',
      'Pin 25.05 to its release branch',
    );
    expect(view).toMatchObject({ status: 'open', approvals: { missing: 1 } });
    first = view.id;

    const shown = await ok('show', first);
    expect(shown).toContain('+ flake:nixpkgs/nixos-25.05 (exact)');
    expect(shown).toContain(
      'nixpkgs/nixos-25.05: github:NixOS/nixpkgs/nixos-25.05 -> github:NixOS/nixpkgs/release-25.05',
    );
    expect(shown).toContain(
      'policy in force (set by version 1): 1 of 2 (signed by alice; 1 more from registry-maintainer-1, registry-maintainer-2, bob)',
    );
    expect(await ok('proposals', '--status', 'open')).toContain(first);

    // Not a terminal and no --yes: nothing is signed.
    const unconfirmed = await cli('approve', first, ...key('bob'));
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toBe(
      'flake-registry: stdin is not a terminal, so nothing can be confirmed: add --yes\n',
    );

    const approved = await ok('approve', first, ...key('bob'), '--yes');
    expect(approved).toContain(`proposal ${first}: merged`);
    expect(approved).toContain('merged as version 2');

    const served = await fetch(`${server.origin}/registries/global/flake-registry.json`);
    expect(served.headers.get('X-Registry-Version')).toBe('2');
    const file = readRegistry(await served.text());
    const bare = file.entries.findIndex((e) => e.from['id'] === 'nixpkgs' && e.from['ref'] === undefined);
    expect(file.entries[bare - 1]).toMatchObject({ from: { id: 'nixpkgs', ref: 'nixos-25.05' }, exact: true });
    expect(await ok('resolve', 'nixpkgs/nixos-25.05')).toBe('github:NixOS/nixpkgs/release-25.05\n');
    const resolved = await json<{ steps: { version: number; exact: boolean }[] }>('resolve', 'nixpkgs/nixos-25.05');
    expect(resolved.steps[0]).toMatchObject({ version: 2, exact: true });
  });

  it('shows the history and verifies it', async () => {
    const history = await ok('history');
    expect(history.split('\n')[0]).toMatch(
      /^version 2 .* proposal [0-9a-f]{12} "Pin 25.05 to its release branch" {2}1 added; /,
    );
    expect(history.split('\n')[1]).toMatch(/^version 1 .* embedded registry \(genesis\)/);
    expect(await ok('diff', '1', '2')).toContain(
      '+ flake:nixpkgs/nixos-25.05 (exact) -> github:NixOS/nixpkgs/release-25.05',
    );
    expect(await ok('verify', '--registry', 'global')).toMatch(
      /^registry 'global': 2 versions verified; head version 2/,
    );
  });

  it('signs offline with --base and --out, approves from the file, and submits both', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    await ok(
      'propose',
      'remove',
      'templates',
      ...key('alice'),
      '--base',
      '2',
      '--out',
      'remove.json',
      '--url',
      nowhere,
    );
    const id = (JSON.parse(await ok('submit', 'remove.json', '--json')) as { id: string; status: string }).id;
    expect((await json<{ status: string }>('show', id)).status).toBe('open');
    await ok(
      'approve',
      id,
      ...key('bob'),
      '--proposal',
      'remove.json',
      '--out',
      'approval.json',
      '--yes',
      '--url',
      nowhere,
    );
    expect(await ok('submit', 'approval.json')).toContain('merged as version 3');
    expect(await ok('resolve', 'nixpkgs')).toBe('github:NixOS/nixpkgs/nixpkgs-unstable\n');
    const missing = await cli('resolve', 'templates');
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.stderr).toBe(
      "flake-registry: Flake not found in the registries: cannot find flake 'flake:templates' in the flake registries\n",
    );
    expect(await ok('verify', '--registry', 'global')).toMatch(/^registry 'global': 3 versions verified/);
  });

  it('uploads a whole file: the diff against the live version, then a proposal; an identical file sends nothing', async () => {
    const live = await (await fetch(`${server.origin}/flake-registry.json`)).text();
    writeFileSync(join(work, 'live.json'), live);
    expect(await ok('upload', 'live.json', ...key('alice'))).toBe(
      "nothing to change: live.json has the entries of version 3 of registry 'global'\n",
    );
    const registry = readRegistry(live);
    const edited = { entries: registry.entries.filter((e) => e.from['id'] !== 'nix') };
    writeFileSync(join(work, 'edited.json'), writeRegistry(edited));
    const out = await ok('upload', 'edited.json', ...key('alice'), '--yes');
    expect(out).toContain('- flake:nix -> github:NixOS/nix');
    expect(out).toContain("nix: github:NixOS/nix -> error: cannot find flake 'flake:nix' in the flake registries");
    expect(out).toMatch(/proposal [0-9a-f]{64}: open/);
    const status = await ok('status');
    expect(status).toMatch(/^global: version 3, \d+ entries, 1 open proposal\n/);
    // The checkout's registries/global.json is version 1's: older than the live registry, nothing to publish.
    expect(status).toContain(
      'registries/global.json is version 1 as embedded; the live registry (version 3) is newer. Nothing to publish',
    );
    expect(status).not.toContain('flake-registry upload');
    // Edited in a checkout: the edit is named, and an upload that would revert what merged since is not suggested.
    const checkout = join(work, 'checkout');
    mkdirSync(join(checkout, 'registries'), { recursive: true });
    const seed = readRegistry(readFileSync(join(root, 'registries', 'global.json'), 'utf8'));
    const edit = { entries: seed.entries.filter((e) => e.from['id'] !== 'templates') };
    // Also the entry a merge added since version 1 (the 25.05 pin), added here with another target: a clash.
    const clashing = {
      entries: [
        {
          from: { type: 'indirect', id: 'nixpkgs', ref: 'nixos-25.05' },
          to: { type: 'github', owner: 'someone', repo: 'nixpkgs' },
          exact: true,
        },
        ...edit.entries,
      ],
    };
    writeFileSync(join(checkout, 'registries', 'global.json'), writeRegistry(edit));
    const checkoutStatus = await inProcess(['status'], {
      cwd: work,
      root: checkout,
      env: { FLAKE_REGISTRY_URL: server.origin },
      fetch: globalThis.fetch,
    });
    expect(checkoutStatus.stdout).toContain(
      'registries/global.json differs from version 3, the live registry: it edits 1 entry against version 1 (flake:templates).',
    );
    expect(checkoutStatus.stdout).toMatch(
      /Uploading it as it is would also revert \d+ entr(y|ies) merged since version 1: /,
    );
    expect(checkoutStatus.stdout).not.toContain('To publish it');
    writeFileSync(join(checkout, 'registries', 'global.json'), writeRegistry(clashing));
    const clash = await inProcess(['status'], {
      cwd: work,
      root: checkout,
      env: { FLAKE_REGISTRY_URL: server.origin },
      fetch: globalThis.fetch,
    });
    expect(clash.stdout).toContain(
      'It edits 1 entry that merged changes since version 1 changed too; uploading it would overwrite them: flake:nixpkgs/nixos-25.05 (exact).',
    );
    expect(clash.stdout).not.toContain('To publish it');
    // Without an id, `show` lists the open proposals; with one, it shows it in full.
    const listed = await ok('show');
    const [id] = /^[0-9a-f]{64}/.exec(listed) ?? [''];
    expect(listed).toContain('"Upload edited.json"');
    const open = await ok('show', id);
    expect(open).toContain('- flake:nix\n');
    expect(open).toContain(
      'policy in force (set by version 1): 1 of 2 (signed by alice; 1 more from registry-maintainer-1, registry-maintainer-2, bob)',
    );
    expect(await ok('proposals', '--status', 'open')).toMatch(/^[0-9a-f]{64} {2}open, base 3, 1 signature, expires /);
  });

  it('refuses bad input with one line, changing nothing', async () => {
    const untrusted = await cli('propose', 'remove', 'nixpkgs', ...key('mallory'));
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/^flake-registry: Key not trusted: [^\n]+\n$/);

    const unknown = await cli('show', 'f'.repeat(64));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      `flake-registry: Unknown proposal: registry 'global' has no proposal ${'f'.repeat(64)} (open proposals leave once expired)\n`,
    );
    const approveUnknown = await cli('approve', 'f'.repeat(64), ...key('bob'), '--yes');
    expect(approveUnknown.stderr).toMatch(/^flake-registry: Unknown proposal: /);

    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await cli('history', '--url', nowhere);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(
      `flake-registry: cannot reach the service at ${nowhere}: connection refused (is the server running? \`npm start\` starts one)\n`,
    );

    const publicKey = await cli('propose', 'remove', 'nixpkgs', '--registry', 'global', '--key', '-');
    expect(publicKey.stderr).toBe(
      'flake-registry: the key on stdin is empty; it should hold a secret key (NAME:BASE64)\n',
    );

    expect((await ok('history', '--limit', '1')).startsWith('version 3 ')).toBe(true);
    expect(await ok('verify', '--registry', 'global')).toMatch(/^registry 'global': 3 versions verified/);
  });

  it('verify checks the whole transparency log against the history, with the key given or served', async () => {
    const vkey = (await ok('pubkey', '--vkey', 'log.sec')).trim();
    // The checkpoint follows a merge within about a second.
    let out = '';
    for (let i = 0; i < 20 && !out.includes('log: 3 leaves'); i++) {
      out = await ok('verify', '--registry', 'global', '--log-key', vkey);
      if (!out.includes('log: 3 leaves')) await sleep(250);
    }
    expect(out).toContain(
      'log: 3 leaves verified against the history, checkpoint signed by localhost (the key given)\n',
    );
    expect(await ok('verify', '--registry', 'global')).toContain('(the key the server gives)');
    const answer = await json<{ ok: boolean; log: { size: number; key: string } }>('verify', '--registry', 'global');
    expect(answer.log).toMatchObject({ size: 3, key: 'localhost' });
    const other = (await ok('pubkey', '--vkey', 'mallory.sec')).trim();
    const wrong = await cli('verify', '--registry', 'global', '--log-key', other);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /^flake-registry: registry 'global' fails verification: its log: .*\((unknown-key|wrong-origin)\)\n$/,
    );
    const bad = await cli('verify', '--registry', 'global', '--log-key', 'not-a-vkey');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--log-key');
  });
});
