import { describe, expect, it } from 'vitest';
import { encodeBase64 } from '../../src/crypto/base64.js';
import { KeyError, parsePublicKey } from '../../src/crypto/keys.js';
import {
  formatSshPublicKey,
  isSshKeyTypeName,
  parseSshPublicKey,
  sameSshKey,
  sshFingerprint,
  sshKeyBlob,
  type SshKeyData,
} from '../../src/crypto/ssh-keys.js';
import { ed25519Blob, keyLine, sha, SK_TYPE, skBlob, str, testKey } from './ssh-vectors.js';
import { hex, NON_CANONICAL_POINTS, RFC8032_VECTORS, SMALL_ORDER_POINTS } from './vectors.js';

const PK = hex(RFC8032_VECTORS[0]!.publicKey);
const B64 = encodeBase64(ed25519Blob(PK));
const SK_B64 = encodeBase64(skBlob(PK));
const NIX_ID = parsePublicKey(`nix:${encodeBase64(PK)}`).id;

describe('SSH public key lines', () => {
  it.each([
    ['a .pub line with a comment', `ssh-ed25519 ${B64} alice@example.org`, 'alice@example.org', []],
    ['a line without a comment', `ssh-ed25519 ${B64}`, '', []],
    [
      'a comment with spaces, tabs between fields',
      `ssh-ed25519\t${B64}\tAlice Example (laptop)`,
      'Alice Example (laptop)',
      [],
    ],
    ['a final newline (a .pub file)', `ssh-ed25519 ${B64} c\n`, 'c', []],
    ['an allowed_signers line', `alice@example.org ssh-ed25519 ${B64}`, '', ['alice@example.org']],
    ['allowed_signers with two principals', `a@x,b@x ssh-ed25519 ${B64} c`, 'c', ['a@x', 'b@x']],
    [
      'allowed_signers with namespaces naming this one',
      `a@x namespaces="git,flake-registry" ssh-ed25519 ${B64}`,
      '',
      ['a@x'],
    ],
    ['allowed_signers with a namespace pattern', `a@x NAMESPACES="flake-*" ssh-ed25519 ${B64}`, '', ['a@x']],
  ] as const)('reads %s', (_, text, comment, principals) => {
    const key = parseSshPublicKey(text, 'alice');
    expect(key.kind).toBe('ssh-ed25519');
    expect(key.bytes).toEqual(PK);
    expect(key.name).toBe('alice');
    expect(key.comment).toBe(comment);
    expect(key.principals).toEqual(principals);
  });

  it("gives an ssh-ed25519 key the id of the same 32 bytes in Nix's format", () => {
    expect(parseSshPublicKey(`ssh-ed25519 ${B64}`, 'a').id).toBe(NIX_ID);
    const fresh = testKey();
    expect(parseSshPublicKey(keyLine('ssh-ed25519', ed25519Blob(fresh.publicBytes)), 'b').id).toBe(
      parsePublicKey(`b:${fresh.publicBytes.toString('base64')}`).id,
    );
  });

  it('reads a security key with its application, under the same id as its 32 bytes', () => {
    const key = parseSshPublicKey(`${SK_TYPE} ${SK_B64} yubikey`, 'alice');
    expect(key).toMatchObject({ kind: 'sk-ssh-ed25519', application: 'ssh:', comment: 'yubikey', id: NIX_ID });
    const other = parseSshPublicKey(keyLine(SK_TYPE, skBlob(PK, 'ssh:registry')), 'alice');
    expect(other.kind === 'sk-ssh-ed25519' && other.application).toBe('ssh:registry');
    expect(sameSshKey(key, other)).toBe(false);
    expect(sameSshKey(key, parseSshPublicKey(`${SK_TYPE} ${SK_B64}`, 'bob'))).toBe(true);
    expect(sameSshKey(key, parseSshPublicKey(`ssh-ed25519 ${B64}`, 'alice'))).toBe(false);
  });

  it('formats a key as TYPE BASE64, which reads back as the same key', () => {
    for (const text of [`ssh-ed25519 ${B64} c`, `p@x ${SK_TYPE} ${SK_B64}`]) {
      const key = parseSshPublicKey(text, 'k');
      const formatted = formatSshPublicKey(key);
      expect(formatted).toBe(text.replace(/^p@x /, '').replace(/ c$/, ''));
      expect(sameSshKey(parseSshPublicKey(formatted, 'k'), key)).toBe(true);
    }
  });

  it("names a key by ssh-keygen -l's SHA256 fingerprint", () => {
    // SHA-256 of the blob, base64 without padding, as sshkey_fingerprint writes it.
    const expected = sha('sha256', ed25519Blob(PK)).toString('base64').replace(/=+$/, '');
    expect(sshFingerprint({ kind: 'ssh-ed25519', bytes: PK })).toBe(`SHA256:${expected}`);
  });

  it('knows the type names OpenSSH writes, accepted here or not', () => {
    for (const name of ['ssh-ed25519', SK_TYPE, 'ssh-rsa', 'ecdsa-sha2-nistp384', 'ssh-ed25519-cert-v01@openssh.com']) {
      expect(isSshKeyTypeName(name)).toBe(true);
    }
    for (const name of ['alice@example.org', 'ssh', 'ed25519', 'namespaces="git"'])
      expect(isSshKeyTypeName(name)).toBe(false);
  });
});

const withType = (type: string, ...fields: Buffer[]): string => keyLine(type, Buffer.concat([str(type), ...fields]));

describe('refused key lines', () => {
  const accepted = /only ssh-ed25519 and sk-ssh-ed25519@openssh\.com keys can sign here/;
  it.each([
    [
      'an RSA key',
      withType('ssh-rsa', str(new Uint8Array([1, 0, 1])), str(new Uint8Array(256))),
      /RSA keys \(ssh-rsa\) are not accepted/,
    ],
    ['a DSA key', withType('ssh-dss', str('p'), str('q'), str('g'), str('y')), /DSA keys \(ssh-dss\) are not accepted/],
    [
      'an ECDSA key',
      withType('ecdsa-sha2-nistp256', str('nistp256'), str(new Uint8Array(65))),
      /ECDSA keys \(ecdsa-sha2-nistp256\)/,
    ],
    ['an ECDSA P-521 key', withType('ecdsa-sha2-nistp521', str('nistp521'), str(new Uint8Array(133))), /ECDSA keys/],
    [
      'a security-key ECDSA key',
      withType('sk-ecdsa-sha2-nistp256@openssh.com', str('nistp256'), str(new Uint8Array(65)), str('ssh:')),
      /security-key ECDSA keys .* \(make an ed25519-sk key: ssh-keygen -t ed25519-sk\)/,
    ],
    [
      'an Ed25519 certificate',
      withType('ssh-ed25519-cert-v01@openssh.com', str('nonce'), str(PK)),
      /SSH certificates \(ssh-ed25519-cert-v01@openssh\.com\) are not accepted/,
    ],
    ['a security-key certificate', withType('sk-ssh-ed25519-cert-v01@openssh.com', str('nonce')), /SSH certificates/],
  ])('refuses %s, naming what is accepted', (_, text, message) => {
    expect(() => parseSshPublicKey(text, 'k')).toThrow(message);
    expect(() => parseSshPublicKey(text, 'k')).toThrow(accepted);
    expect(() => parseSshPublicKey(`a@x ${text}`, 'k')).toThrow(message);
  });

  it.each([
    [
      'ssh-ed25519 text over an RSA blob',
      keyLine('ssh-ed25519', Buffer.concat([str('ssh-rsa'), str('e'), str('n')])),
      /holds a "ssh-rsa" key, but the text before it says ssh-ed25519/,
    ],
    [
      'ssh-ed25519 text over a security key',
      `ssh-ed25519 ${SK_B64}`,
      /holds a "sk-ssh-ed25519@openssh.com" key, but the text before it says ssh-ed25519/,
    ],
    [
      'security-key text over an ssh-ed25519 blob',
      `${SK_TYPE} ${B64}`,
      /holds a "ssh-ed25519" key, but the text before it says sk-ssh-ed25519/,
    ],
    [
      'bytes after the key',
      keyLine('ssh-ed25519', Buffer.concat([ed25519Blob(PK), Buffer.from([0])])),
      /has 1 bytes after its last field/,
    ],
    [
      'bytes after the application',
      keyLine(SK_TYPE, Buffer.concat([skBlob(PK), str('')])),
      /has 4 bytes after its last field/,
    ],
    [
      'a 31-byte key',
      keyLine('ssh-ed25519', Buffer.concat([str('ssh-ed25519'), str(PK.subarray(1))])),
      /the Ed25519 key is 31 bytes, expected 32/,
    ],
    [
      'a 33-byte key',
      keyLine('ssh-ed25519', Buffer.concat([str('ssh-ed25519'), str(Buffer.concat([PK, Buffer.from([0])]))])),
      /is 33 bytes, expected 32/,
    ],
    [
      'a truncated blob',
      keyLine('ssh-ed25519', ed25519Blob(PK).subarray(0, 30)),
      /is truncated: the Ed25519 key at offset 15 says 32 bytes, 11 remain/,
    ],
    [
      'a NUL in the application',
      keyLine(SK_TYPE, Buffer.concat([str(SK_TYPE), str(PK), str('ssh:\0')])),
      /the application contains a NUL byte/,
    ],
    [
      'base64 without its padding',
      `${SK_TYPE} ${SK_B64.replace(/=+$/, '')}`,
      /not a multiple of 4 \(padding missing\?\)/,
    ],
    [
      'base64 with a stray character',
      `ssh-ed25519 ${B64.slice(0, 10)}*${B64.slice(11)}`,
      /invalid base64: character "\*"/,
    ],
    ['no base64 after the type', 'ssh-ed25519', /has no base64 key after ssh-ed25519/],
    ['an empty text', '  \n', /SSH public key 'k' is empty/],
    ['two lines', `ssh-ed25519 ${B64}\nssh-ed25519 ${B64}`, /holds more than one line/],
    ['a comment line', `# ssh-ed25519 ${B64}`, /is a comment line, not a key/],
    ['a private key', '-----BEGIN OPENSSH PRIVATE KEY-----', /is a private key or PEM block; give its public key/],
    [
      "a key in Nix's format",
      `alice:${encodeBase64(PK)}`,
      /is a key in Nix's format \(NAME:BASE64\), not an SSH key line/,
    ],
    ['authorized_keys options', `no-touch-required ${SK_TYPE} ${SK_B64}`, /starts with authorized_keys options/],
    ['an authorized_keys command', `command="echo hi" ssh-ed25519 ${B64}`, /starts with authorized_keys options/],
    ['a control character in the comment', `ssh-ed25519 ${B64} a\u0007b`, /contains a control character/],
    [
      'a principals field with an empty item',
      `a@x,,b@x ssh-ed25519 ${B64}`,
      /principals "a@x,,b@x" must be a comma-separated list/,
    ],
    ['a line with principals and no key', 'alice@example.org', /has no key type/],
    ['an unknown word before the key', `a@x b@x ssh-ed25519 ${B64}`, /unknown option "b@x"/],
    [
      'cert-authority',
      `*@x cert-authority ssh-ed25519 ${B64}`,
      /option cert-authority is not accepted: certificates cannot sign here/,
    ],
    [
      'valid-after',
      `a@x valid-after="20260101" ssh-ed25519 ${B64}`,
      /option valid-after is not accepted: a key is trusted while the registry's policy lists it/,
    ],
    [
      'valid-before',
      `a@x valid-before="20260101",namespaces="*" ssh-ed25519 ${B64}`,
      /option valid-before is not accepted/,
    ],
    [
      'namespaces that exclude this one',
      `a@x namespaces="git" ssh-ed25519 ${B64}`,
      /namespaces="git" does not allow the namespace flake-registry/,
    ],
    [
      'namespaces that negate this one',
      `a@x namespaces="*,!flake-registry" ssh-ed25519 ${B64}`,
      /does not allow the namespace flake-registry/,
    ],
    ['namespaces twice', `a@x namespaces="*",namespaces="*" ssh-ed25519 ${B64}`, /option namespaces is given twice/],
    ['namespaces without quotes', `a@x namespaces=flake-registry ssh-ed25519 ${B64}`, /needs a value in double quotes/],
    ['an unterminated quote', `a@x namespaces="flake-registry ssh-ed25519 ${B64}`, /unterminated quote/],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseSshPublicKey(text, 'k')).toThrow(KeyError);
    expect(() => parseSshPublicKey(text, 'k')).toThrow(message);
  });

  it('refuses a bad key name as parsePublicKey does', () => {
    expect(() => parseSshPublicKey(`ssh-ed25519 ${B64}`, 'a b')).toThrow(/whitespace or a control character/);
    expect(() => parseSshPublicKey(`ssh-ed25519 ${B64}`, '')).toThrow(/name is empty/);
  });

  it.each(SMALL_ORDER_POINTS)('refuses the small-order key %s in both key types', (_, h) => {
    expect(() => parseSshPublicKey(keyLine('ssh-ed25519', ed25519Blob(hex(h))), 'k')).toThrow(
      /SSH public key 'k' is a point of small order/,
    );
    expect(() => parseSshPublicKey(keyLine(SK_TYPE, skBlob(hex(h))), 'k')).toThrow(/is a point of small order/);
  });

  it.each(NON_CANONICAL_POINTS)('refuses the non-canonical key %s', (_, h) => {
    expect(() => parseSshPublicKey(keyLine('ssh-ed25519', ed25519Blob(hex(h))), 'k')).toThrow(
      /is not a canonical Ed25519 point encoding/,
    );
  });

  it('refuses a key that is not on the curve', () => {
    const offCurve = hex('02'.padEnd(64, '0'));
    expect(() => parseSshPublicKey(keyLine('ssh-ed25519', ed25519Blob(offCurve)), 'k')).toThrow(
      /not a point on the Ed25519 curve/,
    );
  });

  it('writes the blob a key was read from, byte for byte', () => {
    const key: SshKeyData = { kind: 'sk-ssh-ed25519', bytes: PK, application: 'ssh:' };
    expect(sshKeyBlob(key)).toEqual(new Uint8Array(skBlob(PK)));
    expect(sshKeyBlob({ kind: 'ssh-ed25519', bytes: PK })).toEqual(new Uint8Array(ed25519Blob(PK)));
  });
});
