import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256HexSync } from '../../../src/crypto/sha256.js';
import { readPolicy } from '../../../src/protocol/policy.js';
import { attributeSignatures } from '../../../src/protocol/signatures.js';
import { proposalBytes, signingMessage } from '../../../src/protocol/signing.js';
import { describeWithOpenSsh, isolatedEnv, ok } from '../../crypto/openssh.js';
import { cli, tempDir, TEST_PUBLIC, TEST_SECRET } from './helpers.js';

/**
 * `--key` with SSH keys made by the real ssh-keygen, offline (no server): proposal and approval
 * files carry SSH signatures that OpenSSH's own verifier accepts, beside Nix-format ones, and
 * keys that cannot sign here are refused before anything is written.
 */

const PASSPHRASE = 'correct horse battery staple';

interface SignedFile {
  readonly proposal: unknown;
  readonly signatures: string[];
}

describeWithOpenSsh('--key with SSH keys, offline', () => {
  let dir: string;
  let remove: () => void;
  let agent: ChildProcess | undefined;
  const path = (name: string): string => join(dir, name);
  const agentSocket = (): string => path('agent.sock');
  const keygen = (args: readonly string[], input?: Uint8Array): Promise<string> =>
    ok('ssh-keygen', args, { cwd: dir, ...(input === undefined ? {} : { input }) });
  const run = (argv: string[], env: Record<string, string> = {}) =>
    cli(argv, { cwd: dir, env: isolatedEnv({ SSH_ASKPASS: '/bin/false', SSH_ASKPASS_REQUIRE: 'force', ...env }) });
  const read = (name: string): SignedFile => JSON.parse(readFileSync(path(name), 'utf8')) as SignedFile;
  /** ssh-keygen -Y check-novalidate -n flake-registry over the proposal's signing message. */
  const checkNovalidate = async (armored: string, proposal: unknown): Promise<string> => {
    writeFileSync(path('check.sig'), armored);
    return keygen(
      ['-Y', 'check-novalidate', '-n', 'flake-registry', '-s', path('check.sig')],
      signingMessage(proposalBytes(proposal)),
    );
  };

  beforeAll(async () => {
    ({ dir, remove } = tempDir());
    writeFileSync(path('maintainer.sec'), TEST_SECRET, { mode: 0o600 });
    mkdirSync(path('lonely'));
    await Promise.all([
      keygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'carol@laptop', '-f', path('carol')]),
      keygen(['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'dora@laptop', '-f', path('dora')]),
      keygen(['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', path('rob')]),
    ]);
    copyFileSync(path('dora.pub'), path('lonely/dora.pub'));
    agent = spawn('ssh-agent', ['-D', '-a', agentSocket()], { cwd: dir, env: isolatedEnv(), stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(agentSocket()); i++) await new Promise((r) => setTimeout(r, 50));
    const askpass = path('askpass');
    writeFileSync(askpass, `#!/bin/sh\nprintf '%s\\n' '${PASSPHRASE}'\n`);
    chmodSync(askpass, 0o700);
    await ok('ssh-add', [path('dora')], {
      cwd: dir,
      detached: true,
      env: isolatedEnv({ SSH_AUTH_SOCK: agentSocket(), SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' }),
    });
    const proposed = await run([
      'propose',
      'set',
      'tool',
      'github:example/tool',
      '--registry',
      'global',
      '--base',
      '1',
      '--out',
      'p.json',
      '--key',
      'carol',
    ]);
    expect(proposed.code, proposed.stderr).toBe(0);
  }, 60_000);

  afterAll(() => {
    agent?.kill();
    remove();
  });

  it('writes a proposal signed with an SSH private key, which ssh-keygen -Y check-novalidate accepts', async () => {
    const file = read('p.json');
    expect(file.signatures).toHaveLength(1);
    expect(file.signatures[0]).toMatch(/^-----BEGIN SSH SIGNATURE-----\n[\s\S]*\n-----END SSH SIGNATURE-----\n$/);
    expect(await checkNovalidate(file.signatures[0] ?? '', file.proposal)).toContain('Good "flake-registry" signature');
  });

  it('adds a Nix-format signature beside it, and both count for a policy listing both keys', async () => {
    writeFileSync(path('q.json'), readFileSync(path('p.json')));
    const signed = await run(['sign', 'q.json', '--key', 'maintainer.sec']);
    expect(signed.code, signed.stderr).toBe(0);
    const file = read('q.json');
    const carol = `carol:${readFileSync(path('carol.pub'), 'utf8').trim()}`;
    const policy = readPolicy({ keys: [TEST_PUBLIC, carol], threshold: 2 });
    const result = await attributeSignatures(
      signingMessage(proposalBytes(file.proposal)),
      file.signatures,
      policy.keys,
    );
    expect(result).toMatchObject({ ok: true });
    if (result.ok)
      expect(result.signatures.map((s) => [s.key.name, s.form])).toEqual([
        ['carol', 'ssh'],
        ['maintainer-1', 'nix'],
      ]);
  });

  it('writes an approval signed through ssh-agent by the .pub of a passphrase-protected key', async () => {
    const file = read('p.json');
    const proposalId = sha256HexSync(proposalBytes(file.proposal));
    const approved = await run(
      [
        'approve',
        proposalId,
        '--registry',
        'global',
        '--proposal',
        'p.json',
        '--out',
        'a.json',
        '--key',
        'dora.pub',
        '--yes',
      ],
      { SSH_AUTH_SOCK: agentSocket() },
    );
    expect(approved.code, approved.stderr).toBe(0);
    const approval = JSON.parse(readFileSync(path('a.json'), 'utf8')) as { id: string; signature: string };
    expect(approval.id).toBe(proposalId);
    expect(await checkNovalidate(approval.signature, file.proposal)).toContain('Good "flake-registry" signature');
  });

  it('refuses to sign again with a key the file carries a signature by', async () => {
    const before = readFileSync(path('p.json'), 'utf8');
    const again = await run(['sign', 'p.json', '--key', 'carol']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already carries a signature by this key \('carol@laptop \(SHA256:/);
    expect(readFileSync(path('p.json'), 'utf8')).toBe(before);
  });

  it('tells an SSH key apart where only a Nix key serves: pubkey, and a key on stdin', async () => {
    for (const argv of [
      ['pubkey', 'carol.pub'],
      ['trust-local', '--key', 'carol'],
    ]) {
      const refused = await run(argv);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/holds an SSH key: here only a key in Nix's format serves/);
    }
    const piped = await cli(['sign', 'p.json', '--key', '-'], { cwd: dir, stdin: readFileSync(path('carol'), 'utf8') });
    expect(piped.code).toBe(1);
    expect(piped.stderr).toMatch(/the key on stdin holds an SSH key/);
  });

  it.each([
    ['an RSA key', ['--key', 'rob'], {}, /RSA keys \(ssh-rsa\) are not accepted; only ssh-ed25519 and sk-ssh-ed25519/],
    [
      'a passphrase-protected key when no passphrase can be given',
      ['--key', 'dora.pub'],
      {},
      /wrong passphrase for 'dora.pub'/,
    ],
    ['a lone .pub whose key no agent holds', ['--key', 'lonely/dora.pub'], {}, /agent/],
  ])('refuses %s, leaving the file as it was', async (_, key, env, message) => {
    const before = readFileSync(path('p.json'), 'utf8');
    const refused = await run(['sign', 'p.json', ...key], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(message);
    expect(readFileSync(path('p.json'), 'utf8')).toBe(before);
  });
});
