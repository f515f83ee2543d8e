import { describe, expect, it } from 'vitest';
import { encodeBase64 } from '../../src/crypto/base64.js';
import { concatBytes } from '../../src/crypto/bytes.js';
import {
  formatPublicKey,
  formatSecretKey,
  formatSignature,
  generateSecretKey,
  KeyError,
  parsePublicKey,
  parseSecretKey,
  parseSignature,
  sign,
  verify,
  type PublicKey,
  type Signature,
} from '../../src/crypto/keys.js';
import { hex, NON_CANONICAL_POINTS, RFC8032_VECTORS, SMALL_ORDER_POINTS } from './vectors.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const randomMessage = (): Uint8Array => crypto.getRandomValues(new Uint8Array(48));
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

function littleEndian(bytes: Uint8Array): bigint {
  return bytes.reduceRight((n, b) => (n << 8n) | BigInt(b), 0n);
}

function toLittleEndian(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** Verifies with WebCrypto alone, as OpenSSL (Node) or BoringSSL (workerd) decide. */
async function webCryptoVerifies(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message);
}

/** An unchecked PublicKey, as any caller could build one without parsePublicKey. */
const rawKey = (bytes: Uint8Array): PublicKey => ({ name: 'raw', bytes, id: encodeBase64(bytes) });
const rawSignature = (bytes: Uint8Array): Signature => ({ name: 'raw', bytes });

describe('RFC 8032 section 7.1 test vectors', () => {
  it('has SHA-512("abc") as the message of TEST SHA(abc)', async () => {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-512', utf8('abc')));
    expect(digest).toEqual(hex(RFC8032_VECTORS[3]!.message));
  });

  it.each(RFC8032_VECTORS)('$name: derives the public key, signs byte for byte and verifies', async (v) => {
    const secret = await parseSecretKey(`rfc8032:${encodeBase64(concatBytes(hex(v.seed), hex(v.publicKey)))}`);
    expect(secret.publicKey.bytes).toEqual(hex(v.publicKey));
    const sig = await sign(secret, hex(v.message));
    expect(sig.bytes).toEqual(hex(v.signature));
    expect(sig.name).toBe('rfc8032');
    const pub = parsePublicKey(`other-name:${encodeBase64(hex(v.publicKey))}`);
    expect(await verify(pub, hex(v.message), sig)).toBe(true);
  });

  it.each(RFC8032_VECTORS)('$name: refuses a changed message, R, S or key', async (v) => {
    const pub = parsePublicKey(`k:${encodeBase64(hex(v.publicKey))}`);
    const sig = rawSignature(hex(v.signature));
    const message = hex(v.message);
    expect(await verify(pub, concatBytes(message, new Uint8Array([0])), sig)).toBe(false);
    for (const index of [0, 31, 32, 63]) {
      const bytes = sig.bytes.slice();
      bytes[index]! ^= 0x01;
      expect(await verify(pub, message, rawSignature(bytes))).toBe(false);
    }
    const other = RFC8032_VECTORS.find((w) => w !== v)!;
    expect(await verify(parsePublicKey(`k:${encodeBase64(hex(other.publicKey))}`), message, sig)).toBe(false);
  });
});

describe("Nix's key format", () => {
  it('round-trips a generated key through its secret and public texts', async () => {
    const secret = await generateSecretKey('cache.example.org-1');
    const secretText = formatSecretKey(secret);
    expect(secretText).toMatch(/^cache\.example\.org-1:[A-Za-z0-9+/]{86}==$/);
    const again = await parseSecretKey(secretText);
    expect(again.seed).toEqual(secret.seed);
    expect(again.publicKey).toEqual(secret.publicKey);
    const publicText = formatPublicKey(secret.publicKey);
    expect(publicText).toMatch(/^cache\.example\.org-1:[A-Za-z0-9+/]{43}=$/);
    expect(parsePublicKey(publicText)).toEqual(secret.publicKey);
    const sig = await sign(secret, utf8('hello'));
    expect(formatSignature(sig)).toMatch(/^cache\.example\.org-1:[A-Za-z0-9+/]{86}==$/);
    expect(parseSignature(formatSignature(sig))).toEqual(sig);
    expect(await verify(parsePublicKey(publicText), utf8('hello'), sig)).toBe(true);
  });

  it('makes a different key each time', async () => {
    const [a, b] = await Promise.all([generateSecretKey('a'), generateSecretKey('a')]);
    expect(a.publicKey.id).not.toBe(b.publicKey.id);
  });

  it('identifies a public key by its bytes, whatever its name or base64 spelling', () => {
    const v = RFC8032_VECTORS[0]!;
    const padded = parsePublicKey(`alice:${encodeBase64(hex(v.publicKey))}`);
    const unpadded = parsePublicKey(`bob:${encodeBase64(hex(v.publicKey)).replace(/=+$/, '')}`);
    expect(unpadded.id).toBe(padded.id);
    expect(unpadded.bytes).toEqual(padded.bytes);
    expect(formatPublicKey(unpadded)).toBe(`bob:${padded.id}`);
  });

  it('ignores whitespace around the text, such as the newline at the end of a key file', async () => {
    const secret = await generateSecretKey('k');
    expect((await parseSecretKey(`${formatSecretKey(secret)}\n`)).publicKey).toEqual(secret.publicKey);
    expect(parsePublicKey(`  ${formatPublicKey(secret.publicKey)}\r\n`)).toEqual(secret.publicKey);
  });

  it('splits the name at the first colon, so a colon in the data is refused as Nix refuses it', () => {
    expect(() => parseSignature(`a:b:${'A'.repeat(86)}==`)).toThrow(/invalid base64: character ":" at position 1/);
  });

  it('refuses a missing colon, an empty name and empty data', () => {
    expect(() => parsePublicKey('2bZuq4OYJKf53Cr1lfIJiL8htmb6dDn9Dc1XmfKTkWE=')).toThrow(/is not NAME:BASE64/);
    expect(() => parsePublicKey(':2bZuq4OYJKf53Cr1lfIJiL8htmb6dDn9Dc1XmfKTkWE=')).toThrow(/has an empty name/);
    expect(() => parseSignature('alice:')).toThrow(/signature 'alice' has nothing after ':'/);
    expect(() => parsePublicKey('')).toThrow(KeyError);
  });

  it('refuses names with whitespace or control characters', async () => {
    expect(() => parsePublicKey('a b:2bZuq4OYJKf53Cr1lfIJiL8htmb6dDn9Dc1XmfKTkWE=')).toThrow(/whitespace or a control/);
    expect(() => parsePublicKey('a\u0000:2bZuq4OYJKf53Cr1lfIJiL8htmb6dDn9Dc1XmfKTkWE=')).toThrow(/control/);
    await expect(generateSecretKey('')).rejects.toThrow(/name is empty/);
    await expect(generateSecretKey('a:b')).rejects.toThrow(/contains ':'/);
    await expect(generateSecretKey('x'.repeat(129))).rejects.toThrow(/longer than 128/);
  });

  it('never repeats key data in an error: a secret key given as a public key is not echoed', async () => {
    const secret = await generateSecretKey('alice');
    const text = formatSecretKey(secret);
    const data = text.slice('alice:'.length);
    expect(() => parsePublicKey(text)).toThrow(/public key 'alice' is 64 bytes, expected 32 \(a secret key\?/);
    try {
      parsePublicKey(text);
    } catch (error) {
      expect(String(error)).not.toContain(data.slice(0, 8));
    }
  });

  it('says how many bytes a key or signature has when the length is wrong', async () => {
    expect(() => parsePublicKey(`alice:${encodeBase64(new Uint8Array(31))}`)).toThrow(
      new KeyError(`public key 'alice' is 31 bytes, expected 32`),
    );
    expect(() => parseSignature(`alice:${encodeBase64(new Uint8Array(63))}`)).toThrow(/is 63 bytes, expected 64/);
    await expect(parseSecretKey(`alice:${encodeBase64(new Uint8Array(32))}`)).rejects.toThrow(
      new KeyError("secret key 'alice' is 32 bytes, expected 64"),
    );
  });

  it('never repeats a secret key in an error', async () => {
    const text = formatSecretKey(await generateSecretKey('alice'));
    const data = text.slice('alice:'.length);
    for (const bad of [`${text}x`, `${text.slice(0, -3)}`, data, `alice:${data.slice(0, -2)}@@`]) {
      const error = await parseSecretKey(bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyError);
      expect((error as Error).message).not.toContain(data.slice(0, 8));
    }
  });

  it('refuses a secret key whose public half is not the public key of its seed', async () => {
    const a = await generateSecretKey('alice');
    const b = await generateSecretKey('bob');
    const mixed = `alice:${encodeBase64(concatBytes(a.seed, b.publicKey.bytes))}`;
    await expect(parseSecretKey(mixed)).rejects.toThrow(
      new KeyError("secret key 'alice' is inconsistent: its last 32 bytes are not the public key of its seed"),
    );
  });

  it('refuses base64 that Nix would read leniently: data after =, newlines inside, stray bits', () => {
    const text = formatPublicKey(parsePublicKey(`k:${encodeBase64(hex(RFC8032_VECTORS[0]!.publicKey))}`));
    expect(() => parsePublicKey(`${text}AAAA`)).toThrow(/'=' before the end/);
    expect(() => parsePublicKey(`${text.slice(0, 10)}\n${text.slice(10)}`)).toThrow(/character "\\n"/);
    const lastDigit = text.at(-2)!;
    const stray = `${text.slice(0, -2)}${String.fromCharCode(lastDigit.charCodeAt(0) + 1)}=`;
    expect(() => parsePublicKey(stray)).toThrow(/not canonical/);
  });

  it('uses the signing key name for signatures and ignores names when verifying', async () => {
    const secret = await generateSecretKey('alice');
    const sig = await sign(secret, utf8('m'));
    expect(sig.name).toBe('alice');
    const renamed: PublicKey = { ...secret.publicKey, name: 'bob' };
    expect(await verify(renamed, utf8('m'), { ...sig, name: 'carol' })).toBe(true);
  });
});

describe('verification refuses what libsodium refuses', () => {
  const identity = hex('01'.padEnd(64, '0'));
  const forgery = concatBytes(identity, new Uint8Array(32));

  it('refuses the identity key, which WebCrypto alone accepts with an all-zero S', async () => {
    const message = randomMessage();
    expect(await webCryptoVerifies(identity, message, forgery)).toBe(true);
    expect(await verify(rawKey(identity), message, rawSignature(forgery))).toBe(false);
    expect(() => parsePublicKey(`evil:${encodeBase64(identity)}`)).toThrow(/is a point of small order/);
  });

  it('refuses a signature whose R is the identity, which WebCrypto alone accepts from the real key holder', async () => {
    // S = H(R || A || M)·a with R the identity: [S]B - [h]A is the identity, so the
    // cofactorless equation holds, but libsodium refuses R of small order.
    const v = RFC8032_VECTORS[0]!;
    const message = randomMessage();
    const expanded = new Uint8Array(await crypto.subtle.digest('SHA-512', hex(v.seed)));
    const scalar = (littleEndian(expanded.subarray(0, 32)) & ((1n << 254n) - 8n)) | (1n << 254n);
    const h = littleEndian(
      new Uint8Array(await crypto.subtle.digest('SHA-512', concatBytes(identity, hex(v.publicKey), message))),
    );
    const sig = concatBytes(identity, toLittleEndian((h * scalar) % L));
    expect(await webCryptoVerifies(hex(v.publicKey), message, sig)).toBe(true);
    expect(await verify(parsePublicKey(`k:${encodeBase64(hex(v.publicKey))}`), message, rawSignature(sig))).toBe(false);
  });

  it.each(SMALL_ORDER_POINTS)('refuses the small-order public key %s', async (_, h) => {
    expect(() => parsePublicKey(`k:${encodeBase64(hex(h))}`)).toThrow(/is a point of small order/);
    expect(await verify(rawKey(hex(h)), randomMessage(), rawSignature(forgery))).toBe(false);
  });

  it.each(SMALL_ORDER_POINTS)('refuses a signature with the small-order R %s', async (_, h) => {
    const secret = await generateSecretKey('k');
    const message = randomMessage();
    const sig = await sign(secret, message);
    const withR = concatBytes(hex(h), sig.bytes.subarray(32));
    expect(await verify(secret.publicKey, message, rawSignature(withR))).toBe(false);
  });

  it.each(NON_CANONICAL_POINTS)('refuses the non-canonical public key %s', async (_, h) => {
    expect(() => parsePublicKey(`k:${encodeBase64(hex(h))}`)).toThrow(/not a canonical Ed25519 point encoding/);
    expect(await verify(rawKey(hex(h)), randomMessage(), rawSignature(forgery))).toBe(false);
  });

  it('refuses a public key that is not on the curve', async () => {
    const offCurve = hex('02'.padEnd(64, '0'));
    expect(() => parsePublicKey(`k:${encodeBase64(offCurve)}`)).toThrow(/not a point on the Ed25519 curve/);
    expect(await verify(rawKey(offCurve), randomMessage(), rawSignature(forgery))).toBe(false);
  });

  it('refuses S + L in place of S (S >= L)', async () => {
    const secret = await generateSecretKey('k');
    const message = randomMessage();
    const sig = await sign(secret, message);
    const malleated = concatBytes(sig.bytes.subarray(0, 32), toLittleEndian(littleEndian(sig.bytes.subarray(32)) + L));
    expect(await verify(secret.publicKey, message, sig)).toBe(true);
    expect(await verify(secret.publicKey, message, rawSignature(malleated))).toBe(false);
  });

  it('answers false, never throws, for keys and signatures of the wrong length', async () => {
    const secret = await generateSecretKey('k');
    const sig = await sign(secret, utf8('m'));
    expect(await verify(rawKey(new Uint8Array(31)), utf8('m'), sig)).toBe(false);
    expect(await verify(secret.publicKey, utf8('m'), rawSignature(sig.bytes.subarray(1)))).toBe(false);
    expect(await verify(secret.publicKey, utf8('m'), rawSignature(new Uint8Array(0)))).toBe(false);
  });
});
