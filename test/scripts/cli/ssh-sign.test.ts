import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseSshPublicKey, type SshPublicKey } from '../../../src/crypto/ssh-keys.js';
import { parseSshSignature } from '../../../src/crypto/ssh-signature.js';
import { verifySshSignature } from '../../../src/crypto/ssh-verify.js';
import { CliError } from '../../../scripts/cli/errors.js';
import { keyFileKind, sshPublicKeyOf, sshSign, type SshIo } from '../../../scripts/cli/ssh-sign.js';
import { describeWithOpenSsh, isolatedEnv, ok } from '../../crypto/openssh.js';

/**
 * The command's SSH signer against the real ssh-keygen and ssh-agent: what it signs,
 * OpenSSH's verifier accepts; keys in an agent sign through a .pub; each failure is one
 * line saying what to do. Passphrases reach OpenSSH only through SSH_ASKPASS with
 * SSH_ASKPASS_REQUIRE=force, and nothing runs with a terminal it could prompt on.
 */

const BIN = join(import.meta.dirname, '..', '..', '..', 'scripts', 'cli', 'bin.mjs');
const MESSAGE = new TextEncoder().encode('flake-registry/proposal/v1\n{"base":3}');
const PASSPHRASE = 'correct horse battery staple';

describeWithOpenSsh("the command's SSH signer", () => {
  let dir: string;
  let agent: ChildProcess | undefined;
  const path = (name: string): string => join(dir, name);
  const keygen = (args: readonly string[], input?: string | Uint8Array): Promise<string> =>
    ok('ssh-keygen', args, { cwd: dir, ...(input === undefined ? {} : { input }) });
  const agentSocket = (): string => path('agent.sock');

  let stderr = '';
  /** The Io the signer runs with; ssh-keygen's stderr lands in `stderr`. */
  const io = (env: Record<string, string> = {}): SshIo => {
    stderr = '';
    return { cwd: dir, env: isolatedEnv(env), interactive: false, err: (text) => (stderr += text) };
  };
  /** SSH_ASKPASS that answers `answer` (a script in the test directory). */
  const askpass = (answer: string): Record<string, string> => {
    const script = path(`askpass-${answer.length}`);
    writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' '${answer}'\n`);
    chmodSync(script, 0o700);
    return { SSH_ASKPASS: script, SSH_ASKPASS_REQUIRE: 'force' };
  };
  /** No way to type a passphrase: signing must not need one. */
  const noPassphrase = { SSH_ASKPASS: '/bin/false', SSH_ASKPASS_REQUIRE: 'force' };

  const checkNovalidate = async (armored: string, hash = 'sha512'): Promise<void> => {
    writeFileSync(path('out.sig'), armored);
    await keygen(['-Y', 'check-novalidate', '-n', 'flake-registry', '-s', path('out.sig')], MESSAGE);
    expect(parseSshSignature(armored).hash).toBe(hash);
  };
  const verifies = async (armored: string, key: SshPublicKey): Promise<boolean> =>
    (await verifySshSignature(MESSAGE, armored, { namespace: 'flake-registry', keys: [key] })).ok;
  const failure = async (promise: Promise<unknown>): Promise<string> => {
    const error = await promise.then(
      () => expect.fail('expected a failure'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flake-registry-ssh-sign-'));
    await Promise.all([
      keygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@example.org', '-f', path('alice')]),
      keygen(['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-f', path('locked')]),
      keygen(['-q', '-t', 'ecdsa', '-N', '', '-f', path('ecdsa')]),
    ]);
    mkdirSync(path('lonely'));
    copyFileSync(path('alice.pub'), path('lonely/alice.pub'));
    mkdirSync(path('bare'));
    copyFileSync(path('alice'), path('bare/alice'));
    copyFileSync(path('locked'), path('bare/locked'));
    copyFileSync(path('ecdsa'), path('bare/ecdsa'));
    writeFileSync(path('notakey'), 'hello\n', { mode: 0o600 });

    agent = spawn('ssh-agent', ['-D', '-a', agentSocket()], { cwd: dir, env: isolatedEnv(), stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(agentSocket()); i++) await new Promise((r) => setTimeout(r, 50));
    // ssh-add with no terminal (a session of its own), the passphrase from SSH_ASKPASS only.
    await ok('ssh-add', [path('locked')], {
      cwd: dir,
      detached: true,
      env: isolatedEnv({ SSH_AUTH_SOCK: agentSocket(), ...askpass(PASSPHRASE) }),
    });
  }, 60_000);

  afterAll(() => {
    agent?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs with a private key so that ssh-keygen -Y check-novalidate -n flake-registry accepts it', async () => {
    const armored = await sshSign(io(), 'alice', MESSAGE);
    await checkNovalidate(armored);
    expect(await verifies(armored, parseSshPublicKey(readFileSync(path('alice.pub'), 'utf8'), 'alice'))).toBe(true);
  });

  it('signs with sha256 when asked', async () => {
    await checkNovalidate(await sshSign(io(), 'alice', MESSAGE, { hash: 'sha256' }), 'sha256');
  });

  it('signs through ssh-agent with the .pub of a passphrase-protected key ssh-add loaded', async () => {
    const armored = await sshSign(io({ SSH_AUTH_SOCK: agentSocket(), ...noPassphrase }), 'locked.pub', MESSAGE);
    await checkNovalidate(armored);
    expect(await verifies(armored, parseSshPublicKey(readFileSync(path('locked.pub'), 'utf8'), 'locked'))).toBe(true);
  });

  it('signs through ssh-agent when given the private key file of a key it holds', async () => {
    await checkNovalidate(await sshSign(io({ SSH_AUTH_SOCK: agentSocket(), ...noPassphrase }), 'locked', MESSAGE));
  });

  it('signs with a passphrase-protected key when ssh-keygen gets the passphrase', async () => {
    await checkNovalidate(await sshSign(io(askpass(PASSPHRASE)), 'locked', MESSAGE));
  });

  it.each([
    ['a key file that does not exist', () => sshSign(io(), 'missing', MESSAGE), /^key file 'missing' does not exist$/],
    [
      'a file that is not a key',
      () => sshSign(io(), 'notakey', MESSAGE),
      /'notakey' is not an SSH key ssh-keygen can read/,
    ],
    [
      'a public key no agent holds and no private key is beside',
      () => sshSign(io({ SSH_AUTH_SOCK: agentSocket() }), 'lonely/alice.pub', MESSAGE),
      /'lonely\/alice.pub' is a public key, the agent at SSH_AUTH_SOCK does not hold it, and no private key is beside it: ssh-add the key/,
    ],
    [
      'a public key with nothing at SSH_AUTH_SOCK',
      () => sshSign(io({ SSH_AUTH_SOCK: path('no-agent.sock') }), 'lonely/alice.pub', MESSAGE),
      /'lonely\/alice.pub' is a public key, there is no agent at SSH_AUTH_SOCK \('.*no-agent.sock': nothing is there\), and no private key is beside it/,
    ],
    [
      'a public key with a regular file at SSH_AUTH_SOCK',
      () => sshSign(io({ SSH_AUTH_SOCK: path('notakey') }), 'lonely/alice.pub', MESSAGE),
      /'lonely\/alice.pub' is a public key, there is no agent at SSH_AUTH_SOCK \('.*notakey' is not a socket\), and no private key is beside it/,
    ],
    [
      'a public key without an agent',
      () => sshSign(io(), 'lonely/alice.pub', MESSAGE),
      /no agent is running \(SSH_AUTH_SOCK is not set\)/,
    ],
    ['a wrong passphrase', () => sshSign(io(askpass('wrong')), 'locked', MESSAGE), /^wrong passphrase for 'locked'/],
    [
      'no way to ask for the passphrase',
      () => sshSign(io({ SSH_ASKPASS: path('no-such-askpass'), SSH_ASKPASS_REQUIRE: 'force' }), 'locked', MESSAGE),
      /could not ask for the passphrase of 'locked'/,
    ],
    [
      'an ECDSA key, refused by its .pub before ssh-keygen runs',
      () => sshSign(io(), 'ecdsa', MESSAGE),
      /^the SSH public key in 'ecdsa.pub': ECDSA keys \(ecdsa-sha2-nistp256\) are not accepted/,
    ],
    [
      'an ECDSA key without a .pub, refused by what it signed',
      () => sshSign(io(), 'bare/ecdsa', MESSAGE),
      /'bare\/ecdsa' cannot sign here: .*ECDSA keys/,
    ],
    [
      'ssh-keygen missing',
      () => sshSign(io(), 'alice', MESSAGE, { program: path('no-ssh-keygen') }),
      /no-ssh-keygen was not found; SSH keys sign through OpenSSH's ssh-keygen/,
    ],
  ])('fails in one line for %s', async (_, attempt, message) => {
    expect(await failure(attempt())).toMatch(message);
  });

  it.each([
    ['a private key', 'alice', (key: string) => sshSign(io(), key, MESSAGE)],
    ['a .pub', 'alice.pub', (key: string) => sshPublicKeyOf(io(), key, 'alice')],
  ])('refuses %s reached through a symbolic link, as a Nix key is', async (_, target, attempt) => {
    const link = `link-to-${target}`;
    if (!existsSync(path(link))) symlinkSync(path(target), path(link));
    expect(await failure(attempt(link))).toBe(`key file '${link}' is a symbolic link; give the key file itself`);
    expect(stderr).toBe('');
  });

  it("passes ssh-keygen's own complaints on to stderr", async () => {
    await failure(sshSign(io(askpass('wrong')), 'locked', MESSAGE));
    expect(stderr).toMatch(/incorrect passphrase supplied to decrypt private key/);
  });

  it('refuses an ECDSA key before ssh-keygen runs', async () => {
    await failure(sshSign(io(), 'ecdsa', MESSAGE));
    expect(stderr).toBe('');
  });

  it('says a signing was cancelled when ssh-keygen is stopped by a signal', async () => {
    const fake = path('interrupted-keygen');
    writeFileSync(fake, '#!/bin/sh\nkill -INT $$\n');
    chmodSync(fake, 0o700);
    expect(await failure(sshSign(io(), 'alice', MESSAGE, { program: fake }))).toBe(
      "signing with 'alice' was cancelled (ssh-keygen stopped by SIGINT)",
    );
  });

  it("never gives ssh-keygen the command's stdin when it is not a terminal", async () => {
    const fake = path('reading-keygen');
    writeFileSync(fake, '#!/bin/sh\nread line\necho "read: [$line]" >&2\nexit 1\n');
    chmodSync(fake, 0o700);
    expect(await failure(sshSign(io(), 'alice', MESSAGE, { program: fake }))).toBe(
      "ssh-keygen failed with 'alice': read: []",
    );
  });

  it('leaves no message or signature file behind', async () => {
    const before = new Set(readdirSync(tmpdir()));
    await sshSign(io(), 'alice', MESSAGE);
    expect(
      readdirSync(tmpdir()).filter((name) => !before.has(name) && name.startsWith('flake-registry-sign-')),
    ).toEqual([]);
  });

  /** Whether the process `pid` is still there (a reaped child is not). */
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  /**
   * Runs `propose … --key KEY` with a fake ssh-keygen on PATH that leaves its pid, says
   * "Enter passphrase:" and then runs `waits`; sends `signal` to the command once it asks.
   * Answers the command's exit status, the fake's pid, and what is left of the message.
   */
  const interrupt = async (
    label: string,
    signal: NodeJS.Signals,
    waits: string,
    key = 'alice',
  ): Promise<{ status: number | null; keygen: number; left: string[] }> => {
    const bin = path(`waiting-bin-${label}`);
    const tmp = path(`tmp-${label}`);
    mkdirSync(bin);
    mkdirSync(tmp);
    const pidFile = path(`keygen-${label}.pid`);
    writeFileSync(
      join(bin, 'ssh-keygen'),
      `#!/bin/sh\necho $$ > '${pidFile}'\necho 'Enter passphrase:' >&2\n${waits}\n`,
    );
    chmodSync(join(bin, 'ssh-keygen'), 0o700);
    const env = isolatedEnv({ PATH: `${bin}:${process.env['PATH'] ?? ''}`, TMPDIR: tmp, FLAKE_REGISTRY_URL: '' });
    const args = ['propose', 'set', 'tool', 'github:example/tool', '--registry', 'global', '--base', '1'];
    const command = spawn(process.execPath, [BIN, ...args, '--out', `${label}.json`, '--key', key], {
      cwd: dir,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let said = '';
    const ended = new Promise<number | null>((done) => command.on('close', (status) => done(status)));
    await new Promise<void>((waiting) =>
      command.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        said += chunk;
        if (said.includes('Enter passphrase:')) waiting();
      }),
    );
    const keygen = Number(readFileSync(pidFile, 'utf8'));
    // Only ssh-keygen -Y sign has a message to remove (-y, for a key alone, reads none).
    const signing = key === 'alice' ? 1 : 0;
    expect(readdirSync(tmp).filter((name) => name.startsWith('flake-registry-sign-'))).toHaveLength(signing);
    expect(alive(keygen)).toBe(true);
    command.kill(signal);
    const status = await ended;
    const left = readdirSync(tmp).filter((name) => name.startsWith('flake-registry-sign-'));
    expect(existsSync(path(`${label}.json`))).toBe(false);
    return { status, keygen, left };
  };

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)(
    'removes the message and ends ssh-keygen when %s ends the command while ssh-keygen waits, and exits %i',
    async (signal, code) => {
      const { status, keygen, left } = await interrupt(signal, signal, 'exec sleep 600');
      try {
        expect(status).toBe(code);
        expect(left).toEqual([]);
        expect(alive(keygen), 'ssh-keygen is left waiting on the terminal').toBe(false);
      } finally {
        if (alive(keygen)) process.kill(keygen, 'SIGKILL');
      }
    },
    30_000,
  );

  it('ends ssh-keygen -y when SIGHUP ends the command while it asks for the passphrase of a key without its .pub', async () => {
    const { status, keygen, left } = await interrupt('bare', 'SIGHUP', 'exec sleep 600', 'bare/locked');
    try {
      expect(status).toBe(129);
      expect(left).toEqual([]);
      expect(alive(keygen)).toBe(false);
    } finally {
      if (alive(keygen)) process.kill(keygen, 'SIGKILL');
    }
  }, 30_000);

  it('kills an ssh-keygen that ignores the signal passed on to it, then exits as the signal would', async () => {
    // `trap '' TERM` ignores it in the shell and in the sleeps it starts.
    const { status, keygen, left } = await interrupt('ignoring', 'SIGTERM', "trap '' TERM\nwhile :; do sleep 1; done");
    try {
      expect(status).toBe(143);
      expect(left).toEqual([]);
      expect(alive(keygen)).toBe(false);
    } finally {
      if (alive(keygen)) process.kill(keygen, 'SIGKILL');
    }
  }, 30_000);

  it.each([
    ['alice', 'ssh-private-key'],
    ['alice.pub', 'ssh-public-key'],
    ['lonely/alice.pub', 'ssh-public-key'],
    ['notakey', 'other'],
    ['nix.sec', 'other'],
    ['allowed_signers_line', 'ssh-public-key'],
  ])('tells that %s holds %s', async (name, kind) => {
    writeFileSync(path('nix.sec'), `alice:${Buffer.alloc(64, 1).toString('base64')}`);
    writeFileSync(path('allowed_signers_line'), `alice@example.org ${readFileSync(path('alice.pub'), 'utf8')}`);
    expect(await keyFileKind({ cwd: dir }, name)).toBe(kind);
  });

  it.each([
    ['a .pub file', 'alice.pub', false],
    ['a private key with its .pub beside it', 'alice', false],
    ['a private key alone (ssh-keygen -y)', 'bare/alice', false],
    ['a passphrase-protected private key alone', 'bare/locked', true],
  ])('gets the public key of %s', async (_, name, locked) => {
    const env = locked ? askpass(PASSPHRASE) : noPassphrase;
    const expected = readFileSync(path(`${name.replace(/^bare\//, '').replace(/\.pub$/, '')}.pub`), 'utf8');
    const key = await sshPublicKeyOf(io(env), name, 'alice');
    expect(key.id).toBe(parseSshPublicKey(expected, 'x').id);
    expect(key.name).toBe('alice');
  });

  it('fails in one line for a private key file ssh-keygen cannot read', async () => {
    writeFileSync(path('broken'), '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n', {
      mode: 0o600,
    });
    expect(await failure(sshPublicKeyOf(io(noPassphrase), 'broken', 'alice'))).toMatch(
      /^'broken' is not an SSH key ssh-keygen can read/,
    );
  });

  it("refuses to take a public key from a key in Nix's format", async () => {
    writeFileSync(path('nix.sec'), `alice:${Buffer.alloc(64, 1).toString('base64')}`);
    expect(await failure(sshPublicKeyOf(io(), 'nix.sec', 'alice'))).toMatch(/is not an SSH key/);
  });
});
