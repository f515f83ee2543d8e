import { describe, expect, it } from 'vitest';
import type { PublicKey } from '../../src/crypto/keys.js';
import { dearmorSshSignature, parseSshSignature } from '../../src/crypto/ssh-signature.js';
import { verifySshSignature } from '../../src/crypto/ssh-verify.js';
import { alice, aliceKey, aliceSig, check, MESSAGE, NS, refusal, skKey, utf8 } from './ssh-fixtures.js';
import { armor, sigBlob, signEd25519, signSk, SK_TYPE, skBlob, str, u32 } from './ssh-vectors.js';

/** The armor and the SSHSIG blob: what ssh-keygen may write is read, anything else refused by name. */

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
      'an armor with every line indented',
      good
        .split('\n')
        .map((line) => (line === '' ? line : `  ${line}`))
        .join('\n'),
      'malformed-armor',
      /^line \d+ of the SSH signature is indented/,
    ],
    [
      'an armor with spaces after its lines',
      good
        .split('\n')
        .map((line) => (line === '' ? line : `${line}  `))
        .join('\n'),
      'malformed-armor',
      /^line 1 of the SSH signature ends in spaces/,
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
      /header is "-----BEGIN PGP SIGNATURE-----"; the armor header must be exactly -----BEGIN SSH SIGNATURE-----$/,
    ],
    [
      'a header in lower case',
      good.replace('-----BEGIN SSH SIGNATURE-----', '-----begin ssh signature-----'),
      'malformed-armor',
      /header is "-----begin ssh signature-----"; the armor header must be exactly -----BEGIN SSH SIGNATURE----- \(in capitals\)/,
    ],
    [
      'a footer in lower case',
      good.replace('-----END SSH SIGNATURE-----', '-----end ssh signature-----'),
      'malformed-armor',
      /footer is "-----end ssh signature-----"; the armor footer must be exactly -----END SSH SIGNATURE----- \(in capitals\)/,
    ],
    [
      'a footer where the header belongs',
      good.replace('-----BEGIN SSH SIGNATURE-----', '-----END SSH SIGNATURE-----'),
      'malformed-armor',
      /the armor header must be exactly -----BEGIN SSH SIGNATURE-----/,
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
