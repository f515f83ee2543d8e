import { bytesEqual } from '../crypto/bytes.js';
import { Base64Error, decodeBase64, encodeBase64 } from '../crypto/base64.js';
import type { SecretKey } from '../crypto/keys.js';
import { cosignatureTimestamp, cosignatureVerifier, cosigner } from './cosignature.js';
import { LogError } from './errors.js';
import { EMPTY_ROOT, HASH_BYTES } from './merkle.js';
import { ED25519, ed25519Signer, ed25519Verifier, formatKeyId, openNote, signNoteWith } from './note.js';
import { parseVerifierKey, type VerifierKey } from './vkey.js';

/**
 * Checkpoints, c2sp.org/tlog-checkpoint: a note text of at least three lines,
 *
 *   ORIGIN            the log's identity: this service uses HOST/registries/NAME/log
 *   SIZE              decimal, no leading zeros (0 for the empty tree)
 *   BASE64(ROOT)      the RFC 6962 root of the tree of SIZE leaves
 *   EXTENSION…        optional, opaque, each non-empty
 *
 * each line ending in a newline. The service signs each checkpoint with its log key twice in
 * one note: a plain Ed25519 signature (type 0x01, which tlog-tiles requires of every log) and
 * a timestamped cosignature (type 0x04) that it renews from an alarm. A client pins the log's
 * vkey and the origin, and takes (origin, size, root, timestamp) only when both signatures
 * verify and the cosignature is recent enough.
 */

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  readonly extensions: readonly string[];
}

/** A clock ahead of the log's by less than this is not an attack: the allowance the writer gives proposals. */
export const MAX_FUTURE_MS = 5 * 60 * 1000;

/**
 * The most bytes a client reads of a checkpoint: its three lines and up to MAX_SIGNATURES
 * signature lines are a few KB; a server sending more is not the service.
 */
export const MAX_CHECKPOINT_BYTES = 64 * 1024;

const SIZE = /^(0|[1-9][0-9]*)$/;

function lineProblem(line: string): string | undefined {
  if (line === '') return 'is empty';
  if (line.includes('\n')) return 'holds a newline';
  // eslint-disable-next-line no-control-regex -- a note holds no control character but newline
  if (/[\u0000-\u001f]|\p{Cs}/u.test(line)) return 'holds a control character or a lone surrogate';
  return undefined;
}

export function formatCheckpoint(checkpoint: Checkpoint): string {
  const refuse = (why: string): never => {
    throw new LogError('malformed-checkpoint', `cannot write a checkpoint: ${why}`);
  };
  const origin = lineProblem(checkpoint.origin);
  if (origin !== undefined) refuse(`its origin ${origin}`);
  if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0)
    refuse(`its size ${checkpoint.size} is not a tree size`);
  if (checkpoint.root.length !== HASH_BYTES) refuse(`its root is ${checkpoint.root.length} bytes, not ${HASH_BYTES}`);
  checkpoint.extensions.forEach((line, i) => {
    const why = lineProblem(line);
    if (why !== undefined) refuse(`extension line ${i + 1} ${why}`);
  });
  const lines = [checkpoint.origin, String(checkpoint.size), encodeBase64(checkpoint.root), ...checkpoint.extensions];
  return lines.map((l) => `${l}\n`).join('');
}

/** Reads a checkpoint's text (a note's text, signatures already taken off), strictly. */
export function parseCheckpoint(text: string): Checkpoint {
  const refuse = (why: string): never => {
    throw new LogError('malformed-checkpoint', `not a checkpoint: ${why}`);
  };
  if (!text.endsWith('\n')) refuse('it does not end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) refuse(`it has ${lines.length} line${lines.length === 1 ? '' : 's'}, expected at least 3`);
  const [origin = '', sizeText = '', rootText = '', ...extensions] = lines;
  const names = ['origin', 'size', 'root hash'];
  lines.forEach((line, i) => {
    const why = lineProblem(line);
    if (why !== undefined) refuse(`${i < 3 ? `its ${names[i]} line` : `extension line ${i - 2}`} ${why}`);
  });
  if (!SIZE.test(sizeText)) refuse(`its size ${JSON.stringify(sizeText)} is not decimal digits without leading zeros`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) refuse(`its size ${sizeText} is larger than this client can count (2^53 - 1)`);
  let root: Uint8Array;
  try {
    root = decodeBase64(rootText);
  } catch (error) {
    if (error instanceof Base64Error) return refuse(`its root hash: ${error.message}`);
    throw error;
  }
  if (encodeBase64(root) !== rootText) refuse('its root hash is not padded standard base64');
  if (root.length !== HASH_BYTES) refuse(`its root hash is ${root.length} bytes, not ${HASH_BYTES}`);
  if (size === 0 && !bytesEqual(root, EMPTY_ROOT))
    refuse('its size is 0 but its root is not the empty tree’s, SHA-256()');
  return { origin, size, root, extensions };
}

/**
 * The note the log serves at /registries/NAME/log/checkpoint: the checkpoint signed by the log
 * key (type 0x01), then cosigned by it at `now` (milliseconds since the epoch, as Date.now()).
 */
export async function signCheckpoint(checkpoint: Checkpoint, key: SecretKey, now: number): Promise<string> {
  return signNoteWith(formatCheckpoint(checkpoint), [ed25519Signer(key), cosigner(key, Math.floor(now / 1000))]);
}

export interface OpenCheckpointOptions {
  /** The log's pinned verifier key (type 0x01), as a VerifierKey or its text. */
  readonly key: VerifierKey | string;
  /** The origin the client expects: the log it asked for. */
  readonly origin: string;
  /** The client's clock, in milliseconds since the epoch. */
  readonly now: number;
  /** The oldest cosignature the client accepts, in milliseconds before `now`. */
  readonly maxAgeMs: number;
}

export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** When the log cosigned it, in POSIX seconds. */
  readonly timestamp: number;
}

/** Opens a checkpoint note: signed and cosigned by the pinned key, of the expected log, and fresh. */
export async function openCheckpoint(
  note: string | Uint8Array,
  options: OpenCheckpointOptions,
): Promise<OpenedCheckpoint> {
  // A NaN or negative age limit would make every comparison below false, and so accept anything.
  if (!Number.isFinite(options.now)) throw new RangeError(`now must be a time in milliseconds, got ${options.now}`);
  if (!(options.maxAgeMs >= 0)) throw new RangeError(`maxAgeMs must be 0 or more, got ${options.maxAgeMs}`);
  const key = typeof options.key === 'string' ? parseVerifierKey(options.key) : options.key;
  if (key.type !== ED25519) {
    throw new LogError('malformed-key', `pin the log's Ed25519 key (type 0x01); ${key.name} is of type 0x04`);
  }
  const logKey = ed25519Verifier(key.publicKey);
  const cosigning = cosignatureVerifier(key.publicKey);
  const opened = await openNote(note, [logKey, cosigning]);
  const signature = opened.signatures.find((s) => s.verifier === logKey);
  const cosignature = opened.signatures.find((s) => s.verifier === cosigning);
  if (!signature) {
    throw new LogError(
      'missing-signature',
      `the checkpoint is not signed by the log key ${key.name}+${formatKeyId(logKey.keyId)}`,
    );
  }
  if (!cosignature) {
    throw new LogError(
      'missing-signature',
      `the checkpoint is not cosigned (timestamped) by the log key ${key.name}+${formatKeyId(cosigning.keyId)}`,
    );
  }
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== options.origin) {
    throw new LogError(
      'wrong-origin',
      `the checkpoint is of log ${JSON.stringify(checkpoint.origin)}, not ${JSON.stringify(options.origin)}`,
    );
  }
  const timestamp = cosignatureTimestamp(cosignature.signature);
  const age = options.now - timestamp * 1000;
  if (-age > MAX_FUTURE_MS) {
    throw new LogError(
      'future',
      `the checkpoint was cosigned at ${isoTime(timestamp)}, ${Math.round(-age / 1000)} s ahead of this clock`,
    );
  }
  if (age > options.maxAgeMs) {
    throw new LogError(
      'stale',
      `the checkpoint was cosigned at ${isoTime(timestamp)}, ${Math.round(age / 1000)} s ago, longer ago than the ${Math.round(options.maxAgeMs / 1000)} s accepted`,
    );
  }
  return { checkpoint, timestamp };
}

function isoTime(timestamp: number): string {
  const date = new Date(timestamp * 1000);
  return Number.isNaN(date.getTime()) ? `${timestamp} (POSIX seconds)` : date.toISOString().replace('.000Z', 'Z');
}
