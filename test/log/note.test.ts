import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeBase64 } from '../../src/crypto/base64.js';
import { generateSecretKey, type SecretKey } from '../../src/crypto/keys.js';
import { LogError } from '../../src/log/errors.js';
import {
  MAX_SIGNATURES,
  ed25519Verifier,
  keyId,
  openNote,
  signNote,
  signatureLine,
  type NoteVerifier,
} from '../../src/log/note.js';
import { formatVerifierKey, parseVerifierKey, verifierKey } from '../../src/log/vkey.js';
import { SMALL_ORDER_POINTS } from '../crypto/vectors.js';
import { hex } from './vectors.js';

/**
 * c2sp.org/signed-note read a second time, from the spec's text with node:crypto alone: the
 * text is everything up to the last blank line, each signature line is "— NAME BASE64", and
 * the key id is SHA-256(name || 0x0A || 0x01 || key)[:4].
 */
function independentlyVerifies(note: string, name: string, publicKey: Uint8Array): boolean {
  const split = note.lastIndexOf('\n\n');
  const text = note.slice(0, split + 1);
  const id = createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${name}\n`, 'utf8'), Buffer.from([0x01]), Buffer.from(publicKey)]))
    .digest()
    .subarray(0, 4);
  const spki = createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKey)]),
    format: 'der',
    type: 'spki',
  });
  return note
    .slice(split + 2)
    .split('\n')
    .filter((line) => line.startsWith(`\u2014 ${name} `))
    .some((line) => {
      const bytes = Buffer.from(line.slice(`\u2014 ${name} `.length), 'base64');
      return bytes.subarray(0, 4).equals(id) && nodeVerify(null, Buffer.from(text, 'utf8'), spki, bytes.subarray(4));
    });
}

async function failure(promise: Promise<unknown>): Promise<LogError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof LogError)) throw new Error(`expected a LogError, got ${String(error)}`);
  return error;
}

const TEXT = 'registry.example.org/registries/global/log\n3\nqPcYsnXDsF0tWAcx9l1N4VYh5pD6yNY87QH7hDXx+vI=\n';

let keys: Promise<[SecretKey, SecretKey]> | undefined;
const twoKeys = (): Promise<[SecretKey, SecretKey]> =>
  (keys ??= Promise.all([generateSecretKey('log.example/a'), generateSecretKey('log.example/b')]));

describe('signing notes', () => {
  it('makes a note an independent reading of the spec (node:crypto) accepts', async () => {
    const [a] = await twoKeys();
    const note = await signNote(TEXT, a);
    expect(note.startsWith(`${TEXT}\n\u2014 log.example/a `)).toBe(true);
    expect(note.endsWith('\n')).toBe(true);
    expect(independentlyVerifies(note, 'log.example/a', a.publicKey.bytes)).toBe(true);
    expect(independentlyVerifies(note.replace('\n3\n', '\n4\n'), 'log.example/a', a.publicKey.bytes)).toBe(false);
  });

  it('computes key ids as SHA-256(name || 0x0A || type || key), first four bytes big-endian', async () => {
    const [a] = await twoKeys();
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('log.example/a\n'), Buffer.from([0x04]), Buffer.from(a.publicKey.bytes)]))
      .digest()
      .readUInt32BE(0);
    expect(keyId('log.example/a', 0x04, a.publicKey.bytes)).toBe(expected);
  });

  it('opens what it signs, naming the key that signed', async () => {
    const [a, b] = await twoKeys();
    const verifier = ed25519Verifier(a.publicKey);
    const opened = await openNote(await signNote(TEXT, a), [verifier, ed25519Verifier(b.publicKey)]);
    expect(opened.text).toBe(TEXT);
    expect(opened.signatures.map((s) => s.verifier)).toEqual([verifier]);
    expect(opened.unknown).toBe(0);
  });

  it.each([
    ['no final newline', 'origin\n1\nroot'],
    ['a control character', 'origin\n1\r\nroot\n'],
    ['a tab', 'origin\t\n'],
    ['a lone surrogate', 'origin\ud800\n'],
  ])('refuses to sign a text with %s', async (_, text) => {
    const [a] = await twoKeys();
    expect((await failure(signNote(text, a))).code).toBe('malformed-note');
  });

  it('refuses a key whose Nix name a note cannot carry', async () => {
    const plus = await generateSecretKey('log+1');
    expect((await failure(signNote(TEXT, plus))).code).toBe('malformed-key');
  });
});

describe('opening notes', () => {
  // c2sp.org/signed-note, "Verifier keys", Example: this vkey verifies this note.
  const SPEC_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
  const SPEC_NOTE =
    'This is an example message.\n\n' +
    '\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';
  const specVerifier = (): NoteVerifier => ed25519Verifier(parseVerifierKey(SPEC_VKEY).publicKey);

  it("accepts the spec's example note with the spec's example vkey", async () => {
    const opened = await openNote(SPEC_NOTE, [specVerifier()]);
    expect(opened.text).toBe('This is an example message.\n');
    expect(opened.signatures).toHaveLength(1);
    const bytes = new TextEncoder().encode(SPEC_NOTE);
    expect((await openNote(bytes, [specVerifier()])).text).toBe('This is an example message.\n');
  });

  it.each([
    ['a changed byte in the text', SPEC_NOTE.replace('example message', 'example massage'), 'bad-signature'],
    ['a changed byte in the signature', SPEC_NOTE.replace('Uw2QOkn8', 'Uw2QOkn9'), 'bad-signature'],
    ['an extra blank line before the signatures', SPEC_NOTE.replace('\n\n', '\n\n\n'), 'bad-signature'],
    ['an extra blank line at the end', `${SPEC_NOTE}\n`, 'malformed-note'],
    ['no final newline', SPEC_NOTE.slice(0, -1), 'malformed-note'],
    ['a wrong key id', SPEC_NOTE.replace('Uw2QOk', 'Uw2QPk'), 'unknown-key'],
    ['another key name', SPEC_NOTE.replace('\u2014 example.com/foo', '\u2014 example.com/bar'), 'unknown-key'],
    ['no blank line', SPEC_NOTE.replace('\n\n', '\n'), 'malformed-note'],
    ['a hyphen for the em dash', SPEC_NOTE.replace('\u2014', '-'), 'malformed-note'],
    ['two spaces after the name', SPEC_NOTE.replace('foo ', 'foo  '), 'malformed-note'],
    ['unpadded base64', SPEC_NOTE.replace('aQM=', 'aQM'), 'malformed-note'],
    ['a carriage return', SPEC_NOTE.replace('message.\n', 'message.\r\n'), 'malformed-note'],
    ['a NUL byte', SPEC_NOTE.replace('This', 'Th\u0000is'), 'malformed-note'],
    [
      'a signature of four bytes',
      `This is an example message.\n\n\u2014 example.com/foo ${encodeBase64(hex('530d903a'))}\n`,
      'malformed-note',
    ],
    ['a name with a +', SPEC_NOTE.replace('\u2014 example.com/foo', '\u2014 example.com/f+o'), 'malformed-note'],
    ['an empty name', SPEC_NOTE.replace('\u2014 example.com/foo', '\u2014 '), 'malformed-note'],
  ])('refuses a note with %s', async (_, note, code) => {
    expect((await failure(openNote(note, [specVerifier()]))).code).toBe(code);
  });

  it('refuses bytes that are not UTF-8', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode(SPEC_NOTE)]);
    bytes[2] = 0xff;
    const error = await failure(openNote(bytes, [specVerifier()]));
    expect(error.code).toBe('malformed-note');
    expect(error.message).toMatch(/not UTF-8/);
  });

  it('ignores signatures by unknown keys, even under a known name or key id', async () => {
    const [a, b] = await twoKeys();
    const mine = await signNote(TEXT, a);
    const sameName = signatureLine('log.example/a', 0x01020304, new Uint8Array(64));
    const sameId = signatureLine('log.example/other', keyId('log.example/a', 1, a.publicKey.bytes), new Uint8Array(64));
    const byB = (await signNote(TEXT, b)).slice(TEXT.length + 1);
    const opened = await openNote(`${mine}${sameName}${sameId}${byB}`, [ed25519Verifier(a.publicKey)]);
    expect(opened.signatures).toHaveLength(1);
    expect(opened.unknown).toBe(3);
  });

  it('refuses a note only unknown keys signed, naming them', async () => {
    const [a, b] = await twoKeys();
    const error = await failure(openNote(await signNote(TEXT, a), [ed25519Verifier(b.publicKey)]));
    expect(error.code).toBe('unknown-key');
    expect(error.message).toMatch(/signed by log\.example\/a\+[0-9a-f]{8}\)$/);
  });

  it('refuses the whole note when one known key does not verify, even if another does', async () => {
    const [a, b] = await twoKeys();
    const bad = signatureLine(b.name, keyId(b.name, 1, b.publicKey.bytes), new Uint8Array(64).fill(1));
    const note = `${await signNote(TEXT, a)}${bad}`;
    const error = await failure(openNote(note, [ed25519Verifier(a.publicKey), ed25519Verifier(b.publicKey)]));
    expect(error.code).toBe('bad-signature');
    expect(error.message).toContain('log.example/b+');
  });

  it('takes a repeated signature line once and refuses two different signatures by one key', async () => {
    const [a] = await twoKeys();
    const note = await signNote(TEXT, a);
    const line = note.slice(TEXT.length + 1);
    const twice = await openNote(`${note}${line}`, [ed25519Verifier(a.publicKey)]);
    expect(twice.signatures).toHaveLength(1);
    const other = signatureLine(a.name, keyId(a.name, 1, a.publicKey.bytes), new Uint8Array(64));
    expect((await failure(openNote(`${note}${other}`, [ed25519Verifier(a.publicKey)]))).code).toBe('malformed-note');
  });

  it(`refuses a note with more than ${MAX_SIGNATURES} signatures`, async () => {
    const [a] = await twoKeys();
    const note = await signNote(TEXT, a);
    const filler = signatureLine('someone', 1, new Uint8Array(64)).repeat(MAX_SIGNATURES);
    const error = await failure(openNote(`${note}${filler}`, [ed25519Verifier(a.publicKey)]));
    expect(error.code).toBe('malformed-note');
    const fewer = filler.slice(0, -filler.length / MAX_SIGNATURES);
    expect((await openNote(`${note}${fewer}`, [ed25519Verifier(a.publicKey)])).unknown).toBe(MAX_SIGNATURES - 1);
  });

  it('keeps empty lines inside the text: the last blank line separates the signatures', async () => {
    const [a] = await twoKeys();
    const text = 'first\n\nthird\n\n';
    const opened = await openNote(await signNote(text, a), [ed25519Verifier(a.publicKey)]);
    expect(opened.text).toBe(text);
  });

  it('refuses two known keys that share a name and key id', async () => {
    const [a] = await twoKeys();
    const v = ed25519Verifier(a.publicKey);
    expect((await failure(openNote(await signNote(TEXT, a), [v, { ...v }]))).code).toBe('malformed-key');
  });
});

describe('verifier keys', () => {
  it("reads the spec's example vkey: its name, key id, type and key", () => {
    const key = parseVerifierKey('example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k');
    expect(key.name).toBe('example.com/foo');
    expect(key.keyId).toBe(0x530d903a);
    expect(key.type).toBe(0x01);
    expect(key.publicKey.bytes).toHaveLength(32);
  });

  it('round-trips the vkeys of generated keys, for both signature types', async () => {
    const [a] = await twoKeys();
    for (const type of [0x01, 0x04] as const) {
      const text = formatVerifierKey(verifierKey(a.publicKey, type));
      expect(text).toMatch(/^log\.example\/a\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
      const back = parseVerifierKey(`${text}\n`);
      expect(back.type).toBe(type);
      expect(back.publicKey.id).toBe(a.publicKey.id);
      expect(formatVerifierKey(back)).toBe(text);
    }
    expect(formatVerifierKey(verifierKey(a.publicKey, 0x01))).not.toBe(
      formatVerifierKey(verifierKey(a.publicKey, 0x04)),
    );
  });

  const SPEC = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
  const material = (bytes: Uint8Array): string => encodeBase64(bytes);
  const smallOrder = hex(SMALL_ORDER_POINTS[0]![1]);

  it.each([
    ['an upper-case key id', SPEC.replace('530d903a', '530D903A'), /8 lowercase hex digits/],
    ['a short key id', SPEC.replace('530d903a', '530d903'), /8 lowercase hex digits/],
    ['a wrong key id', SPEC.replace('530d903a', '530d903b'), /its name, type and key give 530d903a/],
    ['another name', SPEC.replace('example.com/foo', 'example.com/bar'), /but its name, type and key give/],
    ['a truncated key', SPEC.slice(0, -1), /base64|bytes/],
    ['two parts', 'example.com/foo+530d903a', /three parts/],
    ['an empty name', SPEC.replace('example.com/foo', ''), /name is empty/],
    ['a name Nix cannot hold', SPEC.replace('example.com/foo', 'a:b'), /cannot name a Nix key/],
    [
      'signature type 0x02',
      `n+00000000+${material(new Uint8Array([2, ...new Uint8Array(32)]))}`,
      /type 0x02 is not Ed25519/,
    ],
    [
      'a key of 31 bytes',
      `n+00000000+${material(new Uint8Array([1, ...new Uint8Array(31).fill(9)]))}`,
      /is 31 bytes, expected 32/,
    ],
    ['a key of small order', `n+00000000+${material(new Uint8Array([1, ...smallOrder]))}`, /small order/],
  ])('refuses a vkey with %s', (_, text, message) => {
    let error: unknown;
    try {
      parseVerifierKey(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LogError);
    expect((error as LogError).code).toBe('malformed-key');
    expect((error as LogError).message).toMatch(message);
  });
});
