import { concatBytes } from '../crypto/bytes.js';
import { sign, verify, type PublicKey, type SecretKey } from '../crypto/keys.js';
import { LogError } from './errors.js';
import { COSIGNATURE_V1, keyId, noteKeyNameProblem, type NoteSigner, type NoteVerifier } from './note.js';

/**
 * Ed25519 checkpoint cosignatures, c2sp.org/tlog-cosignature (signature type 0x04). The
 * signature line's bytes after the key id are a `timestamped_signature`:
 *
 *   u64 timestamp (big-endian POSIX seconds) || 64-byte Ed25519 signature
 *
 * and what is signed is
 *
 *   cosignature/v1\n
 *   time TIMESTAMP\n          (decimal, no leading zeros)
 *   the checkpoint text       (with its final newline, without signature lines)
 *
 * A cosignature states that, at that time, this is the largest tree the cosigner has seen of
 * the log the origin names. The service cosigns its own checkpoints with the log key again
 * from an alarm, so the timestamp tells a client how recent its view is. The key id uses type
 * 0x04, so it differs from the same key's plain note signatures (type 0x01) as the spec
 * requires when one key signs both ways; and the message begins `cosignature/v1`, which can
 * never be a checkpoint's text (its second line would have to be a tree size), so neither
 * signature can be taken for the other.
 */

export const COSIGNATURE_HEADER = 'cosignature/v1';
/** The spec caps timestamps at 2^63 - 1; this one at what a JavaScript number holds exactly. */
const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER;
const TIMESTAMPED_BYTES = 8 + 64;
const encoder = new TextEncoder();

function checkTimestamp(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp > MAX_TIMESTAMP) {
    throw new RangeError(`a cosignature timestamp is whole POSIX seconds, got ${timestamp}`);
  }
}

/** The bytes a cosignature signs (above), for checkpoint text `text` at `timestamp`. */
export function cosignedMessage(text: Uint8Array, timestamp: number | bigint): Uint8Array {
  return concatBytes(encoder.encode(`${COSIGNATURE_HEADER}\ntime ${timestamp.toString()}\n`), text);
}

function checkName(name: string): void {
  const why = noteKeyNameProblem(name);
  if (why !== undefined) throw new LogError('malformed-key', `key name ${JSON.stringify(name)} ${why}`);
}

/** A signer that cosigns at `timestamp` (POSIX seconds) with a Nix key, named as the key is. */
export function cosigner(key: SecretKey, timestamp: number): NoteSigner {
  checkName(key.name);
  checkTimestamp(timestamp);
  return {
    name: key.name,
    keyId: keyId(key.name, COSIGNATURE_V1, key.publicKey.bytes),
    async sign(text) {
      const signature = await sign(key, cosignedMessage(text, timestamp));
      const out = new Uint8Array(TIMESTAMPED_BYTES);
      new DataView(out.buffer).setBigUint64(0, BigInt(timestamp));
      out.set(signature.bytes, 8);
      return out;
    },
  };
}

/** The timestamp (POSIX seconds) of a cosignature's bytes after the key id; they must be 72 bytes. */
export function cosignatureTimestamp(signature: Uint8Array): number {
  if (signature.length !== TIMESTAMPED_BYTES) {
    throw new LogError('bad-signature', `a cosignature is ${TIMESTAMPED_BYTES} bytes, got ${signature.length}`);
  }
  // Past MAX_SAFE_INTEGER the number is inexact, but such a time is refused as being in the future anyway.
  return Number(new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0));
}

/** A verifier of a key's cosignatures (type 0x04), named as the key is. */
export function cosignatureVerifier(key: PublicKey): NoteVerifier {
  checkName(key.name);
  return {
    name: key.name,
    keyId: keyId(key.name, COSIGNATURE_V1, key.bytes),
    async verify(text, signature) {
      if (signature.length !== TIMESTAMPED_BYTES) return false;
      const timestamp = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0);
      if (timestamp >= 2n ** 63n) return false;
      return verify(key, cosignedMessage(text, timestamp), { name: key.name, bytes: signature.slice(8) });
    },
  };
}
