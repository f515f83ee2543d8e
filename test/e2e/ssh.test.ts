import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { proposalBytes, signingMessage } from '../../src/protocol/signing.js';
import { startDevServer, type DevServer } from '../../scripts/dev-server.js';
import { describeWithOpenSsh, isolatedEnv, ok as run } from '../crypto/openssh.js';

const root = join(import.meta.dirname, '..', '..');
const BIN = join(root, 'scripts', 'cli', 'bin.mjs');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface View {
  readonly id: string;
  readonly status: string;
  readonly proposal: Record<string, unknown>;
  readonly signatures: readonly { key: string; signature: string }[];
  readonly approvals: { policy: { have: number; signers: string[] } };
}

const PASSPHRASE = 'correct horse battery staple';
/** Each step runs the bin as a process of its own (about a second each). */
const SLOW = { timeout: 60_000 };

/**
 * Maintainers who sign with SSH keys made by the real ssh-keygen, through the command (the bin,
 * each step a process of its own) and by hand, against a local server started as `npm start`
 * starts it. alice and bob hold Nix keys trusted for local development; their first act is a
 * policy change that trusts carol's ssh-ed25519 key and dora's, which has a passphrase and
 * lives in ssh-agent.
 */
describeWithOpenSsh('SSH keys against a local server', () => {
  let work: string;
  let server: DevServer;
  let agent: ChildProcess | undefined;
  let env: Record<string, string | undefined>;
  const path = (name: string): string => join(work, name);
  const agentSocket = (): string => path('agent.sock');

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
    expect(r.stderr, `flake-registry ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  }

  const json = async (...args: string[]): Promise<View> => JSON.parse(await ok(...args, '--json')) as View;
  const keygen = (args: readonly string[], input?: string | Uint8Array): Promise<string> =>
    run('ssh-keygen', args, { cwd: work, ...(input === undefined ? {} : { input }) });
  const viewOf = async (id: string): Promise<View> =>
    (await fetch(`${server.origin}/registries/global/proposals/${id}`)).json<View>();
  const approveOverHttp = (id: string, signature: string): Promise<Response> =>
    fetch(`${server.origin}/registries/global/proposals/${id}/approvals`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ signature }),
    });
  /** A proposal by alice (Nix key), open for one more signature. */
  const proposeByAlice = async (id: string): Promise<string> =>
    (
      await ok('propose', 'set', id, `github:example/${id}`, '--registry', 'global', '--key', 'alice.sec', '--id-only')
    ).trim();
  /** The bytes a signature of proposal `id` covers, written to FILE for ssh-keygen. */
  const messageFile = async (id: string, file: string): Promise<Uint8Array> => {
    const message = signingMessage(proposalBytes((await viewOf(id)).proposal));
    writeFileSync(path(file), message);
    return message;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'flake-registry-ssh-e2e-'));
    env = { ...isolatedEnv(), FLAKE_REGISTRY_URL: undefined };
    for (const name of ['alice', 'bob']) await ok('keygen', '--name', name, '--out', `${name}.sec`);
    await Promise.all([
      keygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'carol@laptop', '-f', path('carol')]),
      keygen(['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'dora@laptop', '-f', path('dora')]),
      keygen(['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', path('rob')]),
    ]);
    agent = spawn('ssh-agent', ['-D', '-a', agentSocket()], { cwd: work, env: isolatedEnv(), stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(agentSocket()); i++) await new Promise((r) => setTimeout(r, 50));
    const askpass = path('askpass');
    writeFileSync(askpass, `#!/bin/sh\nprintf '%s\\n' '${PASSPHRASE}'\n`);
    chmodSync(askpass, 0o700);
    await run('ssh-add', [path('dora')], {
      cwd: work,
      detached: true,
      env: isolatedEnv({ SSH_AUTH_SOCK: agentSocket(), SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' }),
    });

    const pubs = await Promise.all(['alice', 'bob'].map(async (n) => (await ok('pubkey', `${n}.sec`)).trim()));
    server = await startDevServer({
      root,
      persistTo: path('state'),
      args: ['--var', `DEV_TRUSTED_KEYS:${pubs.join(' ')}`, '--log-level', 'warn'],
    });
    env = { ...env, FLAKE_REGISTRY_URL: server.origin };

    const line = (name: string) => `${name}:${readFileSync(path(`${name}.pub`), 'utf8').trim()}`;
    writeFileSync(path('policy.json'), JSON.stringify({ keys: [...pubs, line('carol'), line('dora')], threshold: 2 }));
    const id = (
      await ok('propose', 'policy', 'policy.json', '--registry', 'global', '--key', 'alice.sec', '--id-only')
    ).trim();
    expect(await ok('approve', id, '--registry', 'global', '--key', 'bob.sec', '--yes')).toContain('merged');
  }, 180_000);

  afterAll(async () => {
    agent?.kill();
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it(
    'an ssh-keygen Ed25519 key approves a proposal made with a Nix key, and the pair meets threshold 2',
    SLOW,
    async () => {
      const id = await proposeByAlice('carol-tool');
      const view = await json('approve', id, '--registry', 'global', '--key', 'carol', '--yes');
      expect(view).toMatchObject({ status: 'merged', approvals: { policy: { have: 2, signers: ['alice', 'carol'] } } });
      const carol = view.signatures.find((s) => s.key.startsWith('carol:ssh-ed25519 '));
      expect(carol?.signature).toMatch(/^-----BEGIN SSH SIGNATURE-----\n/);
    },
  );

  it('a key with a passphrase approves through ssh-agent, given its .pub', SLOW, async () => {
    const id = await proposeByAlice('dora-tool');
    env = { ...env, SSH_AUTH_SOCK: agentSocket(), SSH_ASKPASS: '/bin/false', SSH_ASKPASS_REQUIRE: 'force' };
    try {
      const view = await json('approve', id, '--registry', 'global', '--key', 'dora.pub', '--yes');
      expect(view).toMatchObject({ status: 'merged', approvals: { policy: { signers: ['alice', 'dora'] } } });
    } finally {
      env = { ...env, SSH_AUTH_SOCK: undefined, SSH_ASKPASS: undefined, SSH_ASKPASS_REQUIRE: undefined };
    }
  });

  it('takes a signature made by hand with ssh-keygen -Y sign, sent over HTTP', SLOW, async () => {
    const id = await proposeByAlice('by-hand');
    await messageFile(id, 'by-hand.msg');
    await keygen(['-q', '-Y', 'sign', '-n', 'flake-registry', '-f', path('carol'), path('by-hand.msg')]);
    const res = await approveOverHttp(id, readFileSync(path('by-hand.msg.sig'), 'utf8'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'merged' });
  });

  it('writes SSH signatures into offline files that ssh-keygen -Y check-novalidate accepts', SLOW, async () => {
    const base = (await fetch(`${server.origin}/flake-registry.json`)).headers.get('X-Registry-Version') ?? '';
    const args = ['--registry', 'global', '--base', base, '--out'];
    await ok('propose', 'set', 'offline-tool', 'github:example/offline-tool', ...args, 'p.json', '--key', 'carol');
    const file = JSON.parse(readFileSync(path('p.json'), 'utf8')) as { proposal: unknown; signatures: string[] };
    writeFileSync(path('p.sig'), file.signatures[0] ?? '');
    const message = signingMessage(proposalBytes(file.proposal));
    const checked = await keygen(['-Y', 'check-novalidate', '-n', 'flake-registry', '-s', path('p.sig')], message);
    expect(checked).toContain('Good "flake-registry" signature');

    // The same key again, in the same form: refused by the command before ssh-keygen runs.
    const twice = await cli('sign', 'p.json', '--key', 'carol');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already carries a signature by this key/);

    await ok('sign', 'p.json', '--key', 'bob.sec');
    expect(await ok('submit', 'p.json')).toContain('merged');
  });

  it(
    'refuses, with nothing stored, SSH signatures in the wrong namespace, over other bytes, by RSA keys, or truncated',
    SLOW,
    async () => {
      const id = await proposeByAlice('refused-tool');
      await messageFile(id, 'r.msg');
      writeFileSync(path('other.msg'), 'other bytes');
      const sign = async (key: string, file: string, namespace = 'flake-registry'): Promise<string> => {
        rmSync(path(`${file}.sig`), { force: true });
        await keygen(['-q', '-Y', 'sign', '-n', namespace, '-f', path(key), path(file)]);
        return readFileSync(path(`${file}.sig`), 'utf8');
      };
      const good = await sign('carol', 'r.msg');
      const cases: [string, number, RegExp][] = [
        [await sign('carol', 'r.msg', 'git'), 403, /namespace "git", not "flake-registry"/],
        [await sign('carol', 'other.msg'), 403, /made over other bytes/],
        [await sign('rob', 'r.msg'), 400, /RSA keys \(ssh-rsa\) are not accepted; only ssh-ed25519 and sk-ssh-ed25519/],
        [good.split('\n').slice(0, 3).join('\n'), 400, /SSH signature/],
      ];
      for (const [signature, status, detail] of cases) {
        const res = await approveOverHttp(id, signature);
        expect(res.status).toBe(status);
        expect((await res.json<{ detail: string }>()).detail).toMatch(detail);
      }
      const view = await viewOf(id);
      expect(view).toMatchObject({ status: 'open', approvals: { policy: { have: 1, signers: ['alice'] } } });
      expect(view.signatures).toHaveLength(1);

      const rsa = await cli('approve', id, '--registry', 'global', '--key', 'rob', '--yes');
      expect(rsa.code).toBe(1);
      expect(rsa.stderr).toMatch(/RSA keys \(ssh-rsa\) are not accepted/);
    },
  );

  it('verifies the whole history offline, SSH signatures included', SLOW, async () => {
    expect(await ok('verify', '--registry', 'global')).toMatch(/verified/);
  });
});
