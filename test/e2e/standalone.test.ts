import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePublicKey, parseSignature } from '../../src/crypto/keys.js';
import { submissionSchema } from '../../src/protocol/proposal.js';
import { proposalBytes, proposalId, verifyProposalSignature } from '../../src/protocol/signing.js';
import { buildCli, type CliBuild } from '../../scripts/build-cli.js';
import { startDevServer, type DevServer } from '../../scripts/dev-server.js';

const root = join(import.meta.dirname, '..', '..');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { cwd, env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/**
 * The one-file command as a maintainer who signs offline carries it: built, copied alone into
 * an empty directory on a machine with Node and nothing else (no node_modules anywhere up the
 * tree, an environment of PATH and HOME only, no server), where it makes keys, writes and signs
 * proposals and approvals; the files it wrote are then sent from the checkout to a local server.
 */
describe('the one-file command, carried alone to an offline machine', { timeout: 60_000 }, () => {
  let built: CliBuild;
  let work: string;
  let alone: string;
  let env: NodeJS.ProcessEnv;
  const ids: Record<string, string> = {};
  const keys: Record<string, string> = {};

  /** The copied file, run by Node from its own directory. */
  const offline = (...args: string[]) => run(process.execPath, ['flake-registry.mjs', ...args], alone, env);

  async function ok(result: Promise<Run>, what: string): Promise<string> {
    const r = await result;
    expect(r.stderr, what).toBe('');
    expect(r.code, what).toBe(0);
    return r.stdout;
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'flake-registry-standalone-'));
    built = await buildCli(join(work, 'build', 'flake-registry.mjs'));
    alone = mkdtempSync(join(work, 'offline-'));
    copyFileSync(built.outfile, join(alone, 'flake-registry.mjs'));
    env = { PATH: dirname(process.execPath), HOME: mkdtempSync(join(work, 'home-')) };
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('is one executable file that bundles zod and @noble/hashes with their licenses, and nothing else', () => {
    expect(built.packages.map((p) => p.name)).toEqual(['@noble/hashes', 'zod']);
    // zod's locales would add 560 KB (imported as `{ z }` instead of `* as z`): the command itself is about 430 KB.
    expect(built.bytes).toBeLessThan(800_000);
    const text = readFileSync(built.outfile, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(text.match(/Permission is hereby granted/g)).toHaveLength(2);
    expect(text).not.toMatch(/from ['"](zod|@noble\/hashes|hono)/);
  });

  it('runs from an empty directory: --help through its shebang, keygen and pubkey', async () => {
    const help = await ok(run('./flake-registry.mjs', ['--help'], alone, env), '--help');
    expect(help).toContain('usage: flake-registry COMMAND');
    for (const name of ['alice', 'bob']) {
      keys[name] = (await ok(offline('keygen', '--name', name, '--out', `${name}.sec`), 'keygen')).trim();
      expect(keys[name]).toMatch(new RegExp(`^${name}:[A-Za-z0-9+/]{43}=$`));
      expect(await ok(offline('pubkey', `${name}.sec`), 'pubkey')).toBe(`${keys[name]}\n`);
    }
  });

  it('writes proposals and approvals that verify, by both keys, with no server', async () => {
    const common = ['--registry', 'global', '--key', 'alice.sec', '--base', '1', '--id-only'];
    const set = ['set', 'my-tool', 'github:example/my-tool', '--message', 'Add my-tool'];
    ids['p'] = (await ok(offline('propose', ...set, ...common, '--out', 'p.json'), 'propose set')).trim();
    expect(await ok(offline('sign', 'p.json', '--key', 'bob.sec'), 'sign')).toContain('(2 signatures) in p.json');
    ids['q'] = (await ok(offline('propose', 'remove', 'templates', ...common, '--out', 'q.json'), 'remove')).trim();
    const approval = ['approve', ids['q'], '--registry', 'global', '--key', 'bob.sec', '--proposal', 'q.json'];
    expect(await ok(offline(...approval, '--out', 'a.json', '--yes'), 'approve')).toContain('to a.json');

    const [alice, bob] = [parsePublicKey(keys['alice'] ?? ''), parsePublicKey(keys['bob'] ?? '')];
    const read = (name: string): unknown => JSON.parse(readFileSync(join(alone, name), 'utf8'));
    const p = submissionSchema.parse(read('p.json'));
    expect(p.proposal).toMatchObject({ registry: 'global', base: 1, message: 'Add my-tool' });
    expect(await proposalId(proposalBytes(p.proposal))).toBe(ids['p']);
    expect(p.signatures).toHaveLength(2);
    const [byAlice = '', byBob = ''] = p.signatures;
    expect(await verifyProposalSignature(alice, p.proposal, parseSignature(byAlice))).toBe(true);
    expect(await verifyProposalSignature(bob, p.proposal, parseSignature(byBob))).toBe(true);
    expect(await verifyProposalSignature(bob, p.proposal, parseSignature(byAlice))).toBe(false);

    const q = submissionSchema.parse(read('q.json'));
    const a = read('a.json') as { registry: string; id: string; signature: string };
    expect(a).toMatchObject({ registry: 'global', id: ids['q'] });
    expect(await verifyProposalSignature(bob, q.proposal, parseSignature(a.signature))).toBe(true);
    expect(await verifyProposalSignature(bob, p.proposal, parseSignature(a.signature))).toBe(false);

    // Only what it was told to write, and nothing in HOME.
    expect(readdirSync(alone).sort()).toEqual([
      'a.json',
      'alice.sec',
      'bob.sec',
      'flake-registry.mjs',
      'p.json',
      'q.json',
    ]);
    expect(readdirSync(env['HOME'] ?? '')).toEqual([]);
  });

  it('refuses trust-local, which edits the .dev.vars of a checkout it is not in', async () => {
    const r = await offline('trust-local', '--key', 'alice.sec');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^flake-registry: trust-local edits \.dev\.vars in a checkout of flake-registry-service, /,
    );
    expect(readdirSync(alone)).not.toContain('.dev.vars');
  });

  describe('then, online', () => {
    let server: DevServer;
    const online = (...args: string[]) =>
      run(process.execPath, [join(root, 'scripts', 'cli', 'bin.mjs'), ...args, '--url', server.origin], alone, {
        ...process.env,
        FLAKE_REGISTRY_URL: undefined,
      });

    beforeAll(async () => {
      // The two keys are trusted as `trust-local` would make them (test/e2e/cli.test.ts).
      server = await startDevServer({
        root,
        persistTo: join(work, 'state'),
        args: ['--var', `DEV_TRUSTED_KEYS:${keys['alice']} ${keys['bob']}`, '--log-level', 'warn'],
      });
    });

    afterAll(async () => {
      await server?.stop();
    });

    it("the checkout's command submits the files, and both proposals merge", async () => {
      expect(await ok(online('submit', 'p.json'), 'submit p.json')).toContain('merged as version 2');
      const q = await ok(online('submit', 'q.json'), 'submit q.json');
      expect(q).toContain(`proposal ${ids['q']}: open`);
      expect(await ok(online('submit', 'a.json'), 'submit a.json')).toContain('merged as version 3');
      expect(await ok(online('resolve', 'my-tool'), 'resolve')).toBe('github:example/my-tool\n');
    });

    it('the one file reads the service too, and verifies its history', async () => {
      const status = await ok(offline('status', '--url', server.origin), 'status');
      expect(status).toMatch(/^global: version 3, \d+ entries, 0 open proposals\n/);
      // Outside a checkout there is no registries/global.json to compare.
      expect(status).not.toContain('registries/global.json');
      expect(await ok(offline('verify', '--registry', 'global', '--url', server.origin), 'verify')).toMatch(
        /^registry 'global': 3 versions verified/,
      );
    });
  });
});
