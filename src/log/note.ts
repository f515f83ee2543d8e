import { Base64Error, decodeBase64, encodeBase64 } from '../crypto/base64.js';
import { bytesEqual, concatBytes } from '../crypto/bytes.js';
import { sign, verify, type PublicKey, type SecretKey } from '../crypto/keys.js';
import { sha256Bytes } from '../crypto/sha256.js';
import { LogError } from './errors.js';

/**
 * Signed notes, c2sp.org/signed-note:
 *
 *   TEXT (ending in a newline)
 *   (a blank line)
 *   — NAME BASE64(4-byte key id || signature)
 *   …
 *
 * A note is valid UTF-8 with no control character but newline. Its text is everything up to
 * and including the newline before the last blank line. A key is known by its name and key id
 * together, key id = SHA-256(name || 0x0A || type || public key)[:4]; signatures by unknown
 * keys are ignored, a known key's signature must verify, and at least one must.
 *
 * Keys are the project's Ed25519 keys in Nix's format (`name:base64`), and the note key name
 * is the Nix key's name, so a name must also be one a note can carry: no Unicode space and no
 * '+'. Stricter than the spec, and as for keys (docs/protocol.md): base64 must be the one
 * padded spelling of its bytes, and one known key may not sign a note twice with different
 * bytes (which of two timestamps would count?).
 */

/** Signature types of c2sp.org/signed-note: Ed25519 over the text, and tlog-cosignature's timestamped Ed25519. */
export const ED25519 = 0x01;
export const COSIGNATURE_V1 = 0x04;

/** The spec asks verifiers to accept at least 16; beyond this a note costs too much to check. */
export const MAX_SIGNATURES = 100;

const EM_DASH_SPACE = '\u2014 ';
const encoder = new TextEncoder();

/** A key that can sign a note: the name and key id its signature line carries. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(text: Uint8Array): Promise<Uint8Array>;
}

/** A known key: a signature line with this name and key id must verify with it. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** Whether `signature` (the bytes after the key id) signs `text`; never throws. */
  verify(text: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

export interface VerifiedSignature {
  readonly verifier: NoteVerifier;
  /** The signature bytes after the key id. */
  readonly signature: Uint8Array;
}

export interface OpenedNote {
  readonly text: string;
  /** The known keys that signed, in the order their lines appear. */
  readonly signatures: readonly VerifiedSignature[];
  /** How many signature lines were by keys not given (ignored, as the spec requires). */
  readonly unknown: number;
}

/** A note key name: not empty, no Unicode space, no '+', no control character. */
export function noteKeyNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (/[\p{White_Space}+]/u.test(name)) return 'contains a space or a +';
  if (/[\p{Cc}\p{Cs}]/u.test(name)) return 'contains a control character or a lone surrogate';
  return undefined;
}

function checkNoteKeyName(name: string): void {
  const why = noteKeyNameProblem(name);
  if (why !== undefined) throw new LogError('malformed-key', `key name ${JSON.stringify(name)} ${why}`);
}

/** SHA-256(name || 0x0A || type || public key), first four bytes, big-endian. */
export function keyId(name: string, type: number, publicKey: Uint8Array): number {
  const hash = sha256Bytes(concatBytes(encoder.encode(`${name}\n`), new Uint8Array([type]), publicKey));
  return new DataView(hash.buffer, hash.byteOffset, 4).getUint32(0);
}

export const formatKeyId = (id: number): string => id.toString(16).padStart(8, '0');

/** An Ed25519 (type 0x01) signer from a Nix secret key, under the key's own name. */
export function ed25519Signer(key: SecretKey): NoteSigner {
  checkNoteKeyName(key.name);
  return {
    name: key.name,
    keyId: keyId(key.name, ED25519, key.publicKey.bytes),
    sign: async (text) => (await sign(key, text)).bytes,
  };
}

/** An Ed25519 (type 0x01) verifier for a public key, under the key's own name. */
export function ed25519Verifier(key: PublicKey): NoteVerifier {
  checkNoteKeyName(key.name);
  return {
    name: key.name,
    keyId: keyId(key.name, ED25519, key.bytes),
    verify: (text, signature) => verify(key, text, { name: key.name, bytes: signature }),
  };
}

/** Why `text` cannot be a note's text, or undefined. */
function textProblem(text: string): string | undefined {
  if (!text.endsWith('\n')) return 'does not end in a newline';
  if (/[\p{Cs}]/u.test(text)) return 'holds a lone surrogate (not UTF-8)';
  // eslint-disable-next-line no-control-regex -- a note holds no control character but newline
  const control = /[\u0000-\u0009\u000b-\u001f]/.exec(text);
  if (control) return `holds the control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0')}`;
  return undefined;
}

/** One signature line, `— NAME BASE64(key id || signature)` with its newline. */
export function signatureLine(name: string, id: number, signature: Uint8Array): string {
  const bytes = new Uint8Array(4 + signature.length);
  new DataView(bytes.buffer).setUint32(0, id);
  bytes.set(signature, 4);
  return `${EM_DASH_SPACE}${name} ${encodeBase64(bytes)}\n`;
}

/** The note of `text` signed by `signers`, in the order given. */
export async function signNoteWith(text: string, signers: readonly NoteSigner[]): Promise<string> {
  const why = textProblem(text);
  if (why !== undefined) throw new LogError('malformed-note', `note text ${why}`);
  if (signers.length === 0) throw new LogError('malformed-note', 'a note needs at least one signature');
  const bytes = encoder.encode(text);
  const lines = await Promise.all(signers.map(async (s) => signatureLine(s.name, s.keyId, await s.sign(bytes))));
  return `${text}\n${lines.join('')}`;
}

/** The note of `text` signed with a Nix Ed25519 key (type 0x01), named as the key is. */
export async function signNote(text: string, key: SecretKey): Promise<string> {
  return signNoteWith(text, [ed25519Signer(key)]);
}

interface SignatureLine {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
  readonly line: number;
}

/** Splits a note into its text and signature lines, refusing every form the spec does not allow. */
export function parseNote(note: string | Uint8Array): { text: string; lines: SignatureLine[] } {
  const refuse = (why: string): never => {
    throw new LogError('malformed-note', `not a signed note: ${why}`);
  };
  let whole: string;
  if (typeof note === 'string') whole = note;
  else {
    try {
      whole = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
    } catch {
      return refuse('it is not UTF-8');
    }
  }
  const why = textProblem(whole);
  if (why !== undefined) refuse(`it ${why}`);
  const split = whole.lastIndexOf('\n\n');
  if (split < 0) refuse('it has no blank line before its signatures');
  const text = whole.slice(0, split + 1);
  const block = whole.slice(split + 2);
  if (block === '') refuse('it has no signature after its last blank line');
  const texts = block.slice(0, -1).split('\n');
  if (texts.length > MAX_SIGNATURES) refuse(`it has ${texts.length} signatures, more than ${MAX_SIGNATURES}`);
  const lines = texts.map((line, i): SignatureLine => {
    const where = `signature line ${i + 1}`;
    if (!line.startsWith(EM_DASH_SPACE)) refuse(`${where} does not begin with an em dash and a space`);
    const rest = line.slice(EM_DASH_SPACE.length);
    const space = rest.indexOf(' ');
    if (space < 0) refuse(`${where} is not '— NAME SIGNATURE'`);
    const name = rest.slice(0, space);
    const encoded = rest.slice(space + 1);
    const bad = noteKeyNameProblem(name);
    if (bad !== undefined) refuse(`${where}: its key name ${bad}`);
    let bytes: Uint8Array;
    try {
      bytes = decodeBase64(encoded);
    } catch (error) {
      if (error instanceof Base64Error) return refuse(`${where}: ${error.message}`);
      throw error;
    }
    if (encodeBase64(bytes) !== encoded) refuse(`${where}: the signature is not padded standard base64`);
    if (bytes.length < 5)
      refuse(`${where}: the signature is ${bytes.length} bytes, too short for a key id and a signature`);
    const id = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
    return { name, keyId: id, signature: bytes.slice(4), line: i + 1 };
  });
  return { text, lines };
}

/**
 * Opens a note with the keys the caller trusts. Resolves to its text and the known keys that
 * signed it; refuses a malformed note, a signature by a known key that does not verify
 * ('bad-signature'), and a note no known key signed ('unknown-key').
 */
export async function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): Promise<OpenedNote> {
  const byKey = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const key = `${v.name}+${formatKeyId(v.keyId)}`;
    if (byKey.has(key)) throw new LogError('malformed-key', `two known keys share the name and key id ${key}`);
    byKey.set(key, v);
  }
  const { text, lines } = parseNote(note);
  const textBytes = encoder.encode(text);
  const seen = new Map<string, Uint8Array>();
  const known: { key: string; verifier: NoteVerifier; signature: Uint8Array }[] = [];
  let unknown = 0;
  for (const line of lines) {
    const key = `${line.name}+${formatKeyId(line.keyId)}`;
    const verifier = byKey.get(key);
    if (!verifier) {
      unknown++;
      continue;
    }
    const before = seen.get(key);
    if (before) {
      if (bytesEqual(before, line.signature)) continue;
      throw new LogError('malformed-note', `key ${key} signs the note twice with different signatures`);
    }
    seen.set(key, line.signature);
    known.push({ key, verifier, signature: line.signature });
  }
  const results = await Promise.all(known.map((k) => k.verifier.verify(textBytes, k.signature)));
  const failed = known.find((_, i) => !results[i]);
  if (failed) throw new LogError('bad-signature', `the signature by known key ${failed.key} does not verify`);
  if (known.length === 0) {
    const names = lines.map((l) => `${l.name}+${formatKeyId(l.keyId)}`).join(', ');
    throw new LogError('unknown-key', `no known key signed the note (it is signed by ${names})`);
  }
  return { text, signatures: known.map(({ verifier, signature }) => ({ verifier, signature })), unknown };
}
