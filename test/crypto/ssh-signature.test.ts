import { describe, expect, it } from 'vitest';
import { parsePublicKey } from '../../src/crypto/keys.js';
import { parseSshPublicKey } from '../../src/crypto/ssh-keys.js';
import {
  dearmorSshSignature,
  fidoSignedData,
  parseSshSignature,
  sshSignedData,
} from '../../src/crypto/ssh-signature.js';
import { aliceKey, aliceSig, alice, bob, check, MESSAGE, NS, refusal, skKey, utf8 } from './ssh-fixtures.js';
import { armor, ed25519Blob, keyLine, sha, signedData, signEd25519, signSk, u32 } from './ssh-vectors.js';

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
