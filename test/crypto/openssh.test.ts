import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parsePublicKey } from '../../src/crypto/keys.js';
import { parseSshPublicKey, sshFingerprint, type SshPublicKey } from '../../src/crypto/ssh-keys.js';
import { parseSshSignature } from '../../src/crypto/ssh-signature.js';
import { verifySshSignature, type SshVerifyResult } from '../../src/crypto/ssh-verify.js';
import { describeWithOpenSsh, ok, run } from './openssh.js';
import { ed25519Blob, keyLine, signedData, signSk, SK_TYPE, skBlob, str, testKey, u32 } from './ssh-vectors.js';

/**
 * Keys and signatures against the real OpenSSH: what ssh-keygen makes is read and verified
 * here, and what this project's tests build for security keys (which no machine here has)
 * is what ssh-keygen's own verifier accepts.
 */

const MESSAGE = 'flake-registry/proposal/v1\n{"base":3,"message":"Pin nixpkgs ✓"}';
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describeWithOpenSsh('SSH keys and signatures with real OpenSSH', () => {
  let dir: string;
  const path = (name: string): string => join(dir, name);
  const keygen = (args: readonly string[], input?: string): Promise<string> =>
    ok('ssh-keygen', args, { cwd: dir, ...(input === undefined ? {} : { input }) });
  const pub = (name: string): string => readFileSync(path(`${name}.pub`), 'utf8');
  let alice: SshPublicKey;
  let bob: SshPublicKey;

  /** `ssh-keygen -Y sign` of MESSAGE (or `message`) on stdin, as in ssh-keygen(1). */
  const sign = (key: string, extra: readonly string[] = [], message = MESSAGE): Promise<string> =>
    keygen(['-q', '-Y', 'sign', '-n', 'flake-registry', '-f', path(key), ...extra], message);

  const verify = (armored: string, keys = [alice], message = MESSAGE): Promise<SshVerifyResult> =>
    verifySshSignature(utf8(message), armored, { namespace: 'flake-registry', keys });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flake-registry-openssh-'));
    await Promise.all([
      keygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@example.org', '-f', path('alice')]),
      keygen(['-q', '-t', 'ed25519', '-N', '', '-f', path('bob')]),
      keygen(['-q', '-t', 'ecdsa', '-N', '', '-f', path('ecdsa')]),
      keygen(['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', path('rsa')]),
      keygen(['-q', '-t', 'ed25519', '-N', '', '-f', path('ca')]),
    ]);
    await keygen(['-q', '-s', path('ca'), '-I', 'alice', '-n', 'alice', path('alice.pub')]);
    alice = parseSshPublicKey(pub('alice'), 'alice');
    bob = parseSshPublicKey(pub('bob'), 'bob');
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a key made by ssh-keygen -t ed25519 under the id of its 32 bytes in Nix's format", async () => {
    // The 32 bytes by another road: the end of the .pub blob, which node:crypto then checks
    // a signature by ssh-keygen with (RFC 4251 string "ssh-ed25519" is 15 bytes, then 4 of length).
    const blob = Buffer.from(pub('alice').split(' ')[1] ?? '', 'base64');
    expect(blob.subarray(0, 19)).toEqual(Buffer.concat([str('ssh-ed25519'), u32(32)]));
    const bytes = blob.subarray(19);
    const armored = await sign('alice');
    const signature = Buffer.from(parseSshSignature(armored).signature);
    const nodeKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') },
      format: 'jwk',
    });
    expect(nodeVerify(null, signedData('flake-registry', 'sha512', utf8(MESSAGE)), nodeKey, signature)).toBe(true);
    expect(Buffer.from(alice.bytes)).toEqual(bytes);
    expect(alice.id).toBe(parsePublicKey(`alice:${bytes.toString('base64')}`).id);
    expect(alice).toMatchObject({ kind: 'ssh-ed25519', comment: 'alice@example.org' });
  });

  it('gives the fingerprint ssh-keygen -l prints', async () => {
    const listed = await keygen(['-l', '-f', path('alice.pub')]);
    expect(listed.split(' ')[1]).toBe(sshFingerprint(alice));
  });

  it('reads an allowed_signers line that ssh-keygen -Y verify accepts for the same signature', async () => {
    const line = `alice@example.org,alice@example.com namespaces="git,flake-registry" ${pub('alice').trim()}`;
    const key = parseSshPublicKey(line, 'alice');
    expect(key.principals).toEqual(['alice@example.org', 'alice@example.com']);
    expect(key.id).toBe(alice.id);
    writeFileSync(path('allowed_signers'), `${line}\n`);
    const armored = await sign('alice');
    writeFileSync(path('message.sig'), armored);
    const args = ['-Y', 'verify', '-f', path('allowed_signers'), '-I', 'alice@example.org', '-n', 'flake-registry'];
    await keygen([...args, '-s', path('message.sig')], MESSAGE);
    expect((await verify(armored, [key])).ok).toBe(true);
  });

  it.each([
    [
      'rsa',
      /RSA keys \(ssh-rsa\) are not accepted; only ssh-ed25519 and sk-ssh-ed25519@openssh.com keys can sign here/,
    ],
    ['ecdsa', /ECDSA keys \(ecdsa-sha2-nistp256\) are not accepted/],
    ['alice-cert', /SSH certificates \(ssh-ed25519-cert-v01@openssh.com\) are not accepted/],
  ])('refuses the %s.pub ssh-keygen made, naming what is accepted', (name, message) => {
    expect(() => parseSshPublicKey(pub(name), 'k')).toThrow(message);
  });

  it.each([
    ['its default hash', [], 'sha512'],
    ['-O hashalg=sha512', ['-O', 'hashalg=sha512'], 'sha512'],
    ['-O hashalg=sha256', ['-O', 'hashalg=sha256'], 'sha256'],
  ])('verifies a signature made by ssh-keygen -Y sign -n flake-registry with %s', async (_, extra, hash) => {
    const result = await verify(await sign('alice', extra));
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.signature.hash).toBe(hash);
  });

  it('refuses a signature made in another namespace', async () => {
    const armored = await keygen(['-q', '-Y', 'sign', '-n', 'git', '-f', path('alice')], MESSAGE);
    const result = await verify(armored);
    expect(!result.ok && result.problem.kind).toBe('wrong-namespace');
  });

  it('refuses a signature over other bytes', async () => {
    const result = await verify(await sign('alice'), [alice], `${MESSAGE} `);
    expect(!result.ok && result.problem.kind).toBe('bad-signature');
  });

  it('refuses a signature by a key that is not trusted', async () => {
    const result = await verify(await sign('bob'), [alice]);
    expect(!result.ok && result.problem).toMatchObject({ kind: 'unknown-key' });
    expect(!result.ok && result.problem.message).toContain(sshFingerprint(bob));
  });

  it('refuses a truncated armor', async () => {
    const armored = await sign('alice');
    for (const cut of [armored.slice(0, -30), armored.slice(0, 60), armored.split('\n').slice(0, 3).join('\n')]) {
      const result = await verify(cut);
      expect(!result.ok && result.problem.kind).toBe('malformed-armor');
    }
  });

  it.each(['ecdsa', 'rsa'])('refuses a signature made by an %s key as an unsupported key type', async (key) => {
    const result = await verify(await sign(key));
    expect(!result.ok && result.problem.kind).toBe('unsupported-key-type');
  });

  it('builds security-key signatures that ssh-keygen -Y check-novalidate accepts', async () => {
    const token = testKey();
    for (const [name, armored] of [
      ['sk.sig', signSk(token, utf8(MESSAGE), { flags: 0x01, counter: 3 })],
      ['sk256.sig', signSk(token, utf8(MESSAGE), { hash: 'sha256', application: 'ssh:registry' })],
      // OpenSSH's verifier does not ask for user presence; this project's does.
      ['sk-no-touch.sig', signSk(token, utf8(MESSAGE), { flags: 0x00 })],
    ] as const) {
      writeFileSync(path(name), armored);
      await keygen(['-Y', 'check-novalidate', '-n', 'flake-registry', '-s', path(name)], MESSAGE);
    }
    const tokenKey = parseSshPublicKey(keyLine(SK_TYPE, skBlob(token.publicBytes)), 'token');
    expect((await verify(readFileSync(path('sk.sig'), 'utf8'), [tokenKey])).ok).toBe(true);
    const noTouch = await verify(readFileSync(path('sk-no-touch.sig'), 'utf8'), [tokenKey]);
    expect(!noTouch.ok && noTouch.problem.kind).toBe('user-presence-missing');
  });

  it('has ssh-keygen refuse the altered security-key signatures this project refuses', async () => {
    const token = testKey();
    const cases = [
      signSk(token, utf8(MESSAGE), { signedApplication: 'ssh:other' }),
      signSk(token, utf8(MESSAGE), { counter: 1, writtenCounter: 2 }),
    ];
    for (const armored of cases) {
      writeFileSync(path('bad.sig'), armored);
      const ran = await run('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'flake-registry', '-s', path('bad.sig')], {
        cwd: dir,
        input: MESSAGE,
      });
      expect(ran.code).not.toBe(0);
      const tokenKey = parseSshPublicKey(keyLine(SK_TYPE, skBlob(token.publicBytes)), 'token');
      const result = await verify(armored, [tokenKey]);
      expect(!result.ok && result.problem.kind).toBe('bad-signature');
    }
  });

  it('has ssh-keygen accept the ssh-ed25519 key lines this project builds', async () => {
    const key = testKey();
    writeFileSync(path('built.pub'), `${keyLine('ssh-ed25519', ed25519Blob(key.publicBytes), 'built')}\n`);
    const listed = await keygen(['-l', '-f', path('built.pub')]);
    expect(listed).toContain('(ED25519)');
  });
});
