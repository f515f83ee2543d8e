import { describe, expect, it } from 'vitest';
import { parsePublicKey, type PublicKey } from '../../src/crypto/keys.js';
import { parseSshPublicKey, type SshPublicKey } from '../../src/crypto/ssh-keys.js';
import {
  dearmorSshSignature,
  fidoSignedData,
  parseSshSignature,
  sshSignedData,
  type SshSignatureProblemKind,
} from '../../src/crypto/ssh-signature.js';
import { verifySshSignature, type SshVerifyResult, type TrustedKey } from '../../src/crypto/ssh-verify.js';
import {
  armor,
  ed25519Blob,
  keyLine,
  sha,
  sigBlob,
  signedData,
  signEd25519,
  signSk,
  SK_TYPE,
  skBlob,
  str,
  testKey,
  u32,
  type TestKey,
} from './ssh-vectors.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const MESSAGE = utf8('flake-registry/proposal/v1\n{"base":3}');
const NS = 'flake-registry';

const alice = testKey();
const bob = testKey();
const aliceKey = (): SshPublicKey => parseSshPublicKey(keyLine('ssh-ed25519', ed25519Blob(alice.publicBytes)), 'alice');
const skKey = (key: TestKey, application = 'ssh:'): SshPublicKey =>
  parseSshPublicKey(keyLine(SK_TYPE, skBlob(key.publicBytes, application)), 'alice-sk');

const check = (
  armored: string,
  keys: readonly TrustedKey[] = [aliceKey()],
  message = MESSAGE,
): Promise<SshVerifyResult> => verifySshSignature(message, armored, { namespace: NS, keys });

async function refusal(
  armored: string,
  keys?: readonly TrustedKey[],
  message?: Uint8Array,
): Promise<[SshSignatureProblemKind, string]> {
  const result = await check(armored, keys, message);
  if (result.ok) throw new Error('expected a refusal');
  return [result.problem.kind, result.problem.message];
}

/** An ssh-ed25519 SSHSIG by alice with its fields as given (and signed as given). */
function aliceSig(
  fields: {
    version?: number;
    namespace?: string;
    reserved?: Uint8Array;
    hash?: string;
    sigType?: string;
    trailing?: Uint8Array;
    signature?: Uint8Array;
  } = {},
): string {
  const signedHash = fields.hash === 'sha256' ? 'sha256' : 'sha512';
  const signature = fields.signature ?? alice.sign(signedData(fields.namespace ?? NS, signedHash, MESSAGE));
  return armor(
    sigBlob({
      keyBlob: ed25519Blob(alice.publicBytes),
      signature: Buffer.concat([str(fields.sigType ?? 'ssh-ed25519'), str(signature)]),
      ...(fields.version === undefined ? {} : { version: fields.version }),
      ...(fields.namespace === undefined ? {} : { namespace: fields.namespace }),
      ...(fields.reserved === undefined ? {} : { reserved: fields.reserved }),
      ...(fields.hash === undefined ? {} : { hash: fields.hash }),
      ...(fields.trailing === undefined ? {} : { trailing: fields.trailing }),
    }),
  );
}

describe('ssh-ed25519 signatures', () => {
  it.each(['sha512', 'sha256'] as const)('accepts a signature hashed with %s and names its key', async (hash) => {
    const result = await check(signEd25519(alice, MESSAGE, { hash }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.key.name).toBe('alice');
    expect(result.signature).toMatchObject({ kind: 'ssh-ed25519', namespace: NS, hash });
  });

  it("accepts a key in Nix's format for the same 32 bytes", async () => {
    const nix = parsePublicKey(`alice-nix:${alice.publicBytes.toString('base64')}`);
    const result = await check(signEd25519(alice, MESSAGE), [nix]);
    expect(result.ok && result.key).toBe(nix);
  });

  it('finds the signing key among several', async () => {
    const bobKey = parseSshPublicKey(keyLine('ssh-ed25519', ed25519Blob(bob.publicBytes)), 'bob');
    const result = await check(signEd25519(bob, MESSAGE), [aliceKey(), bobKey]);
    expect(result.ok && result.key.name).toBe('bob');
  });

  it.each([
    [
      'another namespace',
      () => signEd25519(alice, MESSAGE, { namespace: 'git' }),
      'wrong-namespace',
      /made for namespace "git", not "flake-registry" \(ssh-keygen -Y sign -n flake-registry\)/,
    ],
    [
      'another key',
      () => signEd25519(bob, MESSAGE),
      'unknown-key',
      /is by ssh-ed25519 key SHA256:[A-Za-z0-9+/]{43}, which is not a trusted key$/,
    ],
    [
      'a signature over the message signed in another namespace',
      () => aliceSig({ signature: alice.sign(signedData('git', 'sha512', MESSAGE)) }),
      'bad-signature',
      /by 'alice' does not verify/,
    ],
    [
      'a signature over the message itself, not the signed data',
      () => aliceSig({ signature: alice.sign(MESSAGE) }),
      'bad-signature',
      /does not verify/,
    ],
    [
      'a hash field that differs from the hash signed',
      () => aliceSig({ hash: 'sha256', signature: alice.sign(signedData(NS, 'sha512', MESSAGE)) }),
      'bad-signature',
      /does not verify/,
    ],
  ] as const)('refuses %s', async (_, make, kind, message) => {
    const [got, text] = await refusal(make());
    expect(got).toBe(kind);
    expect(text).toMatch(message);
  });

  it('refuses a signature over other bytes', async () => {
    const [kind] = await refusal(
      signEd25519(alice, MESSAGE),
      undefined,
      utf8('flake-registry/proposal/v1\n{"base":4}'),
    );
    expect(kind).toBe('bad-signature');
  });

  it('says when a trusted key has the same bytes but another type', async () => {
    const [kind, message] = await refusal(signEd25519(alice, MESSAGE), [skKey(alice)]);
    expect(kind).toBe('unknown-key');
    expect(message).toMatch(
      /its 32 bytes are those of trusted key 'alice-sk', which is sk-ssh-ed25519@openssh\.com key SHA256:.* \(application "ssh:"\)/,
    );
  });

  it('refuses every changed byte of the signature', async () => {
    const armored = signEd25519(alice, MESSAGE);
    const sig = parseSshSignature(armored).signature;
    for (const index of [0, 31, 32, 63]) {
      const changed = Buffer.from(sig);
      changed[index]! ^= 0x01;
      const [kind] = await refusal(aliceSig({ signature: changed }));
      expect(kind).toBe('bad-signature');
    }
  });
});

const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const littleEndian = (bytes: Uint8Array): bigint => bytes.reduceRight((n, b) => (n << 8n) | BigInt(b), 0n);
const toLittleEndian = (n: bigint): Buffer =>
  Buffer.from(Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn)));

describe("the Ed25519 part follows libsodium's rules", () => {
  it("refuses S + L in place of S, which OpenSSH's own ed25519.c checks only in its top bits", async () => {
    const sig = parseSshSignature(signEd25519(alice, MESSAGE)).signature;
    const malleated = Buffer.concat([sig.subarray(0, 32), toLittleEndian(littleEndian(sig.subarray(32)) + L)]);
    expect((await check(aliceSig({ signature: sig }))).ok).toBe(true);
    const [kind] = await refusal(aliceSig({ signature: malleated }));
    expect(kind).toBe('bad-signature');
  });

  it('refuses a small-order R, even with an S that satisfies the equation', async () => {
    // R = identity, S = H(R || A || M)·a: [S]B = R + [H]A holds, libsodium refuses R anyway.
    const identity = Buffer.from('01'.padEnd(64, '0'), 'hex');
    const jwk = alice.privateKey.export({ format: 'jwk' });
    const seed = Buffer.from(jwk.d ?? '', 'base64url');
    const expanded = sha('sha512', seed);
    const scalar = (littleEndian(expanded.subarray(0, 32)) & ((1n << 254n) - 8n)) | (1n << 254n);
    const data = signedData(NS, 'sha512', MESSAGE);
    const h = littleEndian(sha('sha512', Buffer.concat([identity, alice.publicBytes, data])));
    const forged = Buffer.concat([identity, toLittleEndian((h * scalar) % L)]);
    const [kind] = await refusal(aliceSig({ signature: forged }));
    expect(kind).toBe('bad-signature');
  });
});

describe('sk-ssh-ed25519 signatures (the FIDO signed data)', () => {
  it('accepts a signature over SHA-256(application) || flags || counter || SHA-256(signed data)', async () => {
    const result = await check(signSk(alice, MESSAGE, { flags: 0x05, counter: 42 }), [skKey(alice)]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.key.name).toBe('alice-sk');
    expect(result.signature).toMatchObject({ kind: 'sk-ssh-ed25519', flags: 0x05, counter: 42, hash: 'sha512' });
  });

  it('accepts a key made with another application when the signature is over that application', async () => {
    const result = await check(signSk(alice, MESSAGE, { application: 'ssh:registry' }), [skKey(alice, 'ssh:registry')]);
    expect(result.ok).toBe(true);
  });

  it('refuses a valid signature made without user presence', async () => {
    const [kind, message] = await refusal(signSk(alice, MESSAGE, { flags: 0x04 }), [skKey(alice)]);
    expect(kind).toBe('user-presence-missing');
    expect(message).toMatch(/signed without the user's touch \(flags 0x04\)/);
  });

  it.each([
    ['the hash of another application', { signedApplication: 'ssh:other' }],
    ['another counter than the one written', { counter: 7, writtenCounter: 8 }],
    ['a cleared user-presence flag (the flags written are not the ones signed)', { flags: 0x01 }],
    [
      'a changed signature byte',
      { tamper: (s: Buffer) => Buffer.concat([s.subarray(0, 10), Buffer.from([s[10]! ^ 1]), s.subarray(11)]) },
    ],
  ] as const)('refuses a signature over %s', async (name, options) => {
    let armored = signSk(alice, MESSAGE, options);
    if (name.startsWith('a cleared')) {
      // Clear the flag byte written after the signature: the signature covered 0x01.
      const blob = Buffer.from(dearmorSshSignature(armored));
      blob[blob.length - 5] = 0x00;
      armored = armor(blob);
    }
    const [kind] = await refusal(armored, [skKey(alice)]);
    expect(kind).toBe('bad-signature');
  });

  it('refuses a security key whose application differs from the trusted one', async () => {
    const [kind, message] = await refusal(signSk(alice, MESSAGE, { application: 'ssh:other' }), [skKey(alice)]);
    expect(kind).toBe('unknown-key');
    expect(message).toMatch(
      /\(application "ssh:other"\), which is not a trusted key; its 32 bytes are those of trusted key 'alice-sk'/,
    );
  });

  it("does not let a key in Nix's format stand for a security key", async () => {
    const nix = parsePublicKey(`alice:${alice.publicBytes.toString('base64')}`);
    const [kind] = await refusal(signSk(alice, MESSAGE), [nix]);
    expect(kind).toBe('unknown-key');
  });

  it('builds the signed data as PROTOCOL.u2f and PROTOCOL.sshsig write it', () => {
    const data = sshSignedData(NS, 'sha256', sha('sha256', MESSAGE));
    expect(Buffer.from(data)).toEqual(signedData(NS, 'sha256', MESSAGE));
    const fido = fidoSignedData('ssh:', 0x01, 0x01020304, data);
    expect(Buffer.from(fido)).toEqual(
      Buffer.concat([sha('sha256', 'ssh:'), Buffer.from([1]), u32(0x01020304), sha('sha256', data)]),
    );
  });
});

const good = signEd25519(alice, MESSAGE);
const body = good.split('\n').slice(1, -2).join('');

describe('the armor and the blob are read strictly', () => {
  it.each([
    ['CRLF line ends', good.replaceAll('\n', '\r\n')],
    ['76-character lines', armor(dearmorSshSignature(good), 76)],
    ['one long line', armor(dearmorSshSignature(good), 1000)],
    ['no final newline', good.trimEnd()],
    ['whitespace around the text', `\n  ${good}  \n`],
  ])('accepts %s', async (_, armored) => {
    expect((await check(armored)).ok).toBe(true);
  });

  it.each([
    [
      'a truncated armor',
      good.slice(0, good.length - 40),
      'malformed-armor',
      /has no -----END SSH SIGNATURE----- line \(truncated\?\)/,
    ],
    [
      'a base64 body cut short',
      `-----BEGIN SSH SIGNATURE-----\n${body.slice(0, -8)}\n-----END SSH SIGNATURE-----\n`,
      'malformed-armor',
      /is truncated/,
    ],
    [
      'a body missing a character',
      `-----BEGIN SSH SIGNATURE-----\n${body.slice(1)}\n-----END SSH SIGNATURE-----\n`,
      'malformed-armor',
      /not a multiple of 4/,
    ],
    [
      'no header',
      good.replace('-----BEGIN SSH SIGNATURE-----\n', ''),
      'malformed-armor',
      /does not start with -----BEGIN SSH SIGNATURE-----/,
    ],
    [
      'a PGP header',
      good.replace('BEGIN SSH SIGNATURE', 'BEGIN PGP SIGNATURE'),
      'malformed-armor',
      /does not start with/,
    ],
    ['text after the footer', `${good}junk\n`, 'malformed-armor', /has text after -----END SSH SIGNATURE-----/],
    ['a second signature after the footer', `${good}${good}`, 'malformed-armor', /has text after/],
    [
      'an empty body',
      '-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----\n',
      'malformed-armor',
      /has no base64 between its header and footer/,
    ],
    ['an empty line inside', good.replace('\n', '\n\n'), 'malformed-armor', /line 2 of the SSH signature is empty/],
    [
      'a space inside a line',
      good.replace(/\n(.{10})/, '\n$1 '),
      'malformed-armor',
      /line 2 of the SSH signature is not base64/,
    ],
    [
      'padding in the middle',
      `-----BEGIN SSH SIGNATURE-----\nAAA=\n${body}\n-----END SSH SIGNATURE-----`,
      'malformed-armor',
      /'=' before the end/,
    ],
    [
      'a huge text',
      `-----BEGIN SSH SIGNATURE-----\n${'A'.repeat(9000)}\n-----END SSH SIGNATURE-----`,
      'malformed-armor',
      /more than 8192/,
    ],
    [
      'another magic',
      armor(Buffer.concat([Buffer.from('SSHSIH'), dearmorSshSignature(good).subarray(6)])),
      'malformed-armor',
      /does not start with "SSHSIG"/,
    ],
    ['version 2', aliceSig({ version: 2 }), 'unsupported-version', /version 2; only 1 is read/],
    ['version 0, which OpenSSH still reads', aliceSig({ version: 0 }), 'unsupported-version', /version 0/],
    [
      'a non-empty reserved field',
      aliceSig({ reserved: utf8('tag') }),
      'malformed-armor',
      /reserved field holds 3 bytes; version 1 leaves it empty/,
    ],
    ['an empty namespace', aliceSig({ namespace: '' }), 'malformed-armor', /empty namespace/],
    [
      'a namespace ending in NUL',
      aliceSig({ namespace: `${NS}\0` }),
      'malformed-armor',
      /the namespace contains a NUL byte/,
    ],
    [
      'the hash sha1',
      aliceSig({ hash: 'sha1' }),
      'unsupported-hash',
      /hashes with "sha1"; only sha256 and sha512 are read/,
    ],
    ['the hash SHA512 in capitals', aliceSig({ hash: 'SHA512' }), 'unsupported-hash', /"SHA512"/],
    [
      'a signature type other than the key type',
      aliceSig({ sigType: 'rsa-sha2-512' }),
      'malformed-armor',
      /signature is "rsa-sha2-512", its key ssh-ed25519/,
    ],
    [
      'a 63-byte signature',
      aliceSig({ signature: new Uint8Array(63) }),
      'malformed-armor',
      /Ed25519 signature is 63 bytes, expected 64/,
    ],
    [
      'bytes after the blob',
      aliceSig({ trailing: new Uint8Array([0]) }),
      'malformed-armor',
      /has 1 bytes after its last field/,
    ],
  ] as const)('refuses %s', async (_, armored, kind, message) => {
    const [got, text] = await refusal(armored);
    expect(got).toBe(kind);
    expect(text).toMatch(message);
  });

  it.each([
    ['an RSA key', Buffer.concat([str('ssh-rsa'), str('e'), str('n')]), /RSA keys \(ssh-rsa\) are not accepted/],
    [
      'an ECDSA key',
      Buffer.concat([str('ecdsa-sha2-nistp256'), str('nistp256'), str(new Uint8Array(65))]),
      /ECDSA keys/,
    ],
    [
      'a security-key ECDSA key',
      Buffer.concat([str('sk-ecdsa-sha2-nistp256@openssh.com'), str('nistp256')]),
      /security-key ECDSA keys/,
    ],
    ['a certificate', Buffer.concat([str('ssh-ed25519-cert-v01@openssh.com'), str('nonce')]), /SSH certificates/],
  ])('refuses a signature by %s as an unsupported key type', async (_, keyBlob, message) => {
    const armored = armor(sigBlob({ keyBlob, signature: Buffer.concat([str('x'), str(new Uint8Array(64))]) }));
    const [kind, text] = await refusal(armored);
    expect(kind).toBe('unsupported-key-type');
    expect(text).toMatch(message);
  });

  it('refuses a signature whose signature field has bytes after the counter', async () => {
    const blob = Buffer.from(dearmorSshSignature(signSk(alice, MESSAGE)));
    const fields = parseSshSignature(armor(blob));
    expect(fields.kind).toBe('sk-ssh-ed25519');
    const sig = Buffer.concat([str(SK_TYPE), str(fields.signature), Buffer.from([1]), u32(7), Buffer.from([0])]);
    const armored = armor(sigBlob({ keyBlob: skBlob(alice.publicBytes), signature: sig }));
    const [kind, text] = await refusal(armored, [skKey(alice)]);
    expect(kind).toBe('malformed-armor');
    expect(text).toMatch(/signature field has 1 bytes after its last field/);
  });

  it('never throws, whatever the text', async () => {
    const keys: PublicKey[] = [aliceKey()];
    for (const text of [
      '',
      'x',
      '-----BEGIN SSH SIGNATURE-----',
      `${'\u0000'.repeat(10)}`,
      good.replaceAll('A', 'é'),
    ]) {
      const result = await verifySshSignature(MESSAGE, text, { namespace: NS, keys });
      expect(result.ok).toBe(false);
    }
  });
});
