import { Lru } from '../lru.js';
import { Base64Error, decodeBase64, encodeBase64 } from './base64.js';
import { bytesEqual, concatBytes, ownBuffer } from './bytes.js';
import { decodePoint, isCanonicalAndNotSmallOrder, isCanonicalScalar, isSmallOrder } from './ed25519-point.js';

/**
 * Ed25519 keys and signatures in Nix's text format (libsodium's crypto_sign, as `nix key
 * generate-secret`, `nix key convert-secret-to-public` and `nix store sign` use them):
 *
 *   secret     NAME:base64(32-byte seed || 32-byte public key)
 *   public     NAME:base64(32-byte public key)
 *   signature  NAME:base64(64 bytes: R || S)
 *
 * As in Nix (2.8 src/libstore/crypto.cc, current src/libutil/signature/local-keys.cc) the
 * name is everything before the first ':' and must not be empty. Nix allows any other
 * character in it; this refuses whitespace and control characters, which Nix's
 * whitespace-separated `trusted-public-keys` could not hold anyway. Base64 is read strictly
 * (see base64.ts); whitespace around the whole text (a key file's final newline) is ignored.
 *
 * Keys and signatures are compared as bytes, never as text: `id` is the canonical base64 of
 * a public key's bytes, whatever the name.
 *
 * The signing itself is WebCrypto's Ed25519 (workerd and Node alike); `verify` adds the
 * checks libsodium makes and WebCrypto does not (ed25519-point.ts).
 */

export class KeyError extends Error {
  override readonly name = 'KeyError';
}

export interface PublicKey {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** canonical (padded, standard) base64 of bytes: a stable identity for maps */
  readonly id: string;
}

export interface SecretKey {
  readonly name: string;
  readonly seed: Uint8Array;
  readonly publicKey: PublicKey;
}

export interface Signature {
  readonly name: string;
  readonly bytes: Uint8Array;
}

const PUBLIC_KEY_BYTES = 32;
const SEED_BYTES = 32;
const SECRET_KEY_BYTES = SEED_BYTES + PUBLIC_KEY_BYTES;
const SIGNATURE_BYTES = 64;
const NAME_MAX = 128;

/** A PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410) is this prefix followed by the 32-byte seed. */
const PKCS8_SEED_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const ED25519 = { name: 'Ed25519' };

type Kind = 'public key' | 'secret key' | 'signature';

function quoted(text: string): string {
  return `'${text.length > 100 ? `${text.slice(0, 100)}…` : text}'`;
}

/** Throws KeyError unless `name` can name a key (see the module comment). */
export function checkKeyName(name: string, kind: Kind = 'public key'): void {
  if (name === '') throw new KeyError(`${kind} name is empty`);
  if (name.length > NAME_MAX) throw new KeyError(`${kind} name ${quoted(name)} is longer than ${NAME_MAX} characters`);
  if (name.includes(':')) throw new KeyError(`${kind} name ${quoted(name)} contains ':'`);
  if (/[\s\p{Cc}\p{Cs}]/u.test(name)) {
    throw new KeyError(`${kind} name ${JSON.stringify(name)} contains whitespace or a control character`);
  }
}

/**
 * Splits NAME:BASE64 and decodes it to exactly `length` bytes. Errors name the key
 * but never repeat its data: a secret key pasted where a public one belongs must
 * not be echoed back.
 */
function parseNamed(kind: Kind, text: string, length: number): { name: string; bytes: Uint8Array } {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  if (colon < 0) {
    throw new KeyError(`${kind} is not NAME:BASE64 (no ':')`);
  }
  const name = trimmed.slice(0, colon);
  if (name === '') throw new KeyError(`${kind} has an empty name`);
  checkKeyName(name, kind);
  const shown = quoted(name);
  const data = trimmed.slice(colon + 1);
  if (data === '') throw new KeyError(`${kind} ${shown} has nothing after ':'`);
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(data);
  } catch (e) {
    if (e instanceof Base64Error) throw new KeyError(`${kind} ${shown}: ${e.message}`, { cause: e });
    throw e;
  }
  if (bytes.length !== length) {
    const hint = kind === 'public key' && bytes.length === 64 ? ' (a secret key? give its public half)' : '';
    throw new KeyError(`${kind} ${shown} is ${bytes.length} bytes, expected ${length}${hint}`);
  }
  return { name, bytes };
}

function makePublicKey(name: string, bytes: Uint8Array): PublicKey {
  return Object.freeze({ name, bytes, id: encodeBase64(bytes) });
}

export function parsePublicKey(text: string): PublicKey {
  const { name, bytes } = parseNamed('public key', text, PUBLIC_KEY_BYTES);
  const decoded = decodePoint(bytes);
  const shown = quoted(name);
  if (!decoded.ok) {
    throw new KeyError(
      decoded.reason === 'non-canonical'
        ? `public key ${shown} is not a canonical Ed25519 point encoding`
        : `public key ${shown} is not a point on the Ed25519 curve`,
    );
  }
  if (isSmallOrder(decoded.point)) {
    throw new KeyError(`public key ${shown} is a point of small order, for which signatures can be forged`);
  }
  return makePublicKey(name, bytes);
}

export function formatPublicKey(key: PublicKey): string {
  return `${key.name}:${encodeBase64(key.bytes)}`;
}

function pkcs8(seed: Uint8Array): Uint8Array {
  return concatBytes(PKCS8_SEED_PREFIX, seed);
}

/** The public key of a seed (RFC 8032 section 5.1.5), read back from WebCrypto as a JWK. */
async function publicKeyOfSeed(seed: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('pkcs8', ownBuffer(pkcs8(seed)), ED25519, true, ['sign']);
  const jwk: unknown = await crypto.subtle.exportKey('jwk', key);
  if (typeof jwk !== 'object' || jwk === null || !('x' in jwk) || typeof jwk.x !== 'string') {
    throw new Error('WebCrypto exported an Ed25519 key without its public half');
  }
  return decodeBase64(jwk.x.replaceAll('-', '+').replaceAll('_', '/'));
}

export async function parseSecretKey(text: string): Promise<SecretKey> {
  const { name, bytes } = parseNamed('secret key', text, SECRET_KEY_BYTES);
  const seed = bytes.slice(0, SEED_BYTES);
  const derived = await publicKeyOfSeed(seed);
  if (!bytesEqual(derived, bytes.subarray(SEED_BYTES))) {
    throw new KeyError(`secret key '${name}' is inconsistent: its last 32 bytes are not the public key of its seed`);
  }
  return Object.freeze({ name, seed, publicKey: makePublicKey(name, derived) });
}

export function formatSecretKey(key: SecretKey): string {
  return `${key.name}:${encodeBase64(concatBytes(key.seed, key.publicKey.bytes))}`;
}

export async function generateSecretKey(name: string): Promise<SecretKey> {
  checkKeyName(name, 'secret key');
  const seed = crypto.getRandomValues(new Uint8Array(SEED_BYTES));
  return Object.freeze({ name, seed, publicKey: makePublicKey(name, await publicKeyOfSeed(seed)) });
}

export function parseSignature(text: string): Signature {
  const { name, bytes } = parseNamed('signature', text, SIGNATURE_BYTES);
  return Object.freeze({ name, bytes });
}

export function formatSignature(sig: Signature): string {
  return `${sig.name}:${encodeBase64(sig.bytes)}`;
}

export async function sign(key: SecretKey, message: Uint8Array): Promise<Signature> {
  const cryptoKey = await crypto.subtle.importKey('pkcs8', ownBuffer(pkcs8(key.seed)), ED25519, false, ['sign']);
  const bytes = new Uint8Array(await crypto.subtle.sign(ED25519, cryptoKey, ownBuffer(message)));
  return Object.freeze({ name: key.name, bytes });
}

/**
 * Imported verification keys by `id`: importing costs about as much as verifying, and a
 * registry checks the same few maintainer keys again and again. Only settled keys are kept
 * (no promise is shared between requests).
 */
type WebCryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
const verifyKeys = new Lru<string, WebCryptoKey>(256);

async function verifyKey(bytes: Uint8Array): Promise<WebCryptoKey> {
  const id = encodeBase64(bytes);
  const cached = verifyKeys.get(id);
  if (cached !== undefined) return cached;
  const key = await crypto.subtle.importKey('raw', ownBuffer(bytes), ED25519, false, ['verify']);
  verifyKeys.set(id, key);
  return key;
}

/**
 * Whether `sig` is a valid signature of `message` by `key`, exactly as libsodium's
 * crypto_sign_verify_detached decides (names are not compared). Never throws: anything
 * malformed is simply not a valid signature.
 */
export async function verify(key: PublicKey, message: Uint8Array, sig: Signature): Promise<boolean> {
  if (key.bytes.length !== PUBLIC_KEY_BYTES || sig.bytes.length !== SIGNATURE_BYTES) return false;
  if (!isCanonicalScalar(sig.bytes.subarray(32))) return false;
  if (!isCanonicalAndNotSmallOrder(sig.bytes.subarray(0, 32))) return false;
  if (!isCanonicalAndNotSmallOrder(key.bytes)) return false;
  try {
    return await crypto.subtle.verify(ED25519, await verifyKey(key.bytes), ownBuffer(sig.bytes), ownBuffer(message));
  } catch {
    return false;
  }
}
