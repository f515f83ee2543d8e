import { Base64Error, decodeBase64 } from './base64.js';
import { bytesEqual, concatBytes } from './bytes.js';
import { KeyError } from './keys.js';
import { sha256Bytes } from './sha256.js';
import { readSshKeyBlob, sshKeyTypeName, type SshKeyData } from './ssh-keys.js';
import { SshReader, sshByte, sshString, sshUint32, SshWireError } from './ssh-wire.js';

/**
 * SSH signatures as `ssh-keygen -Y sign` writes them (OpenSSH PROTOCOL.sshsig): the armored
 * text, the blob inside it, and the exact bytes its signature covers. Checking one against
 * trusted keys is ssh-verify.ts.
 *
 *   armor   "-----BEGIN SSH SIGNATURE-----" LF, base64 lines, "-----END SSH SIGNATURE-----"
 *   blob    byte[6] "SSHSIG", uint32 1, string public key, string namespace,
 *           string reserved (empty), string hash ("sha256" | "sha512"), string signature
 *   signature (ssh-ed25519)     string "ssh-ed25519", string R || S (64 bytes)
 *   signature (sk-ssh-ed25519)  string "sk-ssh-ed25519@openssh.com", string R || S,
 *                               byte flags, uint32 counter (PROTOCOL.u2f)
 *
 * Stricter than sshsig.c, so that one signature has one armored text: the version must be 1
 * (OpenSSH also takes 0), the reserved field must be empty (OpenSSH ignores its contents,
 * which its verifier never signs: they would ride along unauthenticated), nothing may
 * follow the footer (OpenSSH ignores it), the base64 must be padded and canonical, and text
 * fields may hold no NUL. Line lengths are free: ssh-keygen writes 70 characters, PROTOCOL.sshsig
 * asks for 76, and re-wrapping changes no byte of the blob. LF and CRLF line ends are read alike.
 */

export type SshHash = 'sha256' | 'sha512';

interface SignatureCommon {
  readonly namespace: string;
  readonly hash: SshHash;
  /** R || S, 64 bytes. */
  readonly signature: Uint8Array;
}

export type SshSignature =
  | (SignatureCommon & { readonly kind: 'ssh-ed25519'; readonly key: Extract<SshKeyData, { kind: 'ssh-ed25519' }> })
  | (SignatureCommon & {
      readonly kind: 'sk-ssh-ed25519';
      readonly key: Extract<SshKeyData, { kind: 'sk-ssh-ed25519' }>;
      /** The authenticator's flags: 0x01 user present, 0x04 user verified (PIN). */
      readonly flags: number;
      readonly counter: number;
    });

/** Why a signature is refused; each has a stable name callers may show or map. */
export type SshSignatureProblemKind =
  | 'malformed-armor'
  | 'unsupported-version'
  | 'unsupported-key-type'
  | 'unsupported-hash'
  | 'wrong-namespace'
  | 'unknown-key'
  | 'bad-signature'
  | 'user-presence-missing';

export class SshSignatureError extends Error {
  override readonly name = 'SshSignatureError';
  constructor(
    readonly kind: SshSignatureProblemKind,
    message: string,
  ) {
    super(message);
  }
}

const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
const MAGIC = new TextEncoder().encode('SSHSIG');
const VERSION = 1;
const HASHES: readonly string[] = ['sha256', 'sha512'] satisfies SshHash[];
/** An Ed25519 SSHSIG is about 300 characters; a bound keeps absurd input from being decoded. */
export const MAX_ARMOR_LENGTH = 8192;

const malformed = (message: string): SshSignatureError => new SshSignatureError('malformed-armor', message);

/**
 * Five dashes, then BEGIN or END in any case: a line meant as armor (PGP's, or ssh-keygen's
 * retyped), told apart from a missing header so the refusal can say which line must change.
 */
export const isArmorLine = (line: string): boolean => /^-----(BEGIN|END)/i.test(line);

const quoted = (line: string): string => JSON.stringify(line.slice(0, 60));

/** The line it must be, and, when only the case differs, that case matters. */
const exactly = (line: string, want: string): string => (line.toUpperCase() === want ? `${want} (in capitals)` : want);

/** The blob inside the armor. */
export function dearmorSshSignature(armored: string): Uint8Array {
  if (armored.length > MAX_ARMOR_LENGTH) {
    throw malformed(`the SSH signature is ${armored.length} characters, more than ${MAX_ARMOR_LENGTH}`);
  }
  const lines = armored.trim().split('\n');
  const text = lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  // Said before the header is looked for: an indented or padded armor is not a truncated one.
  const indented = text.findIndex((line) => /^[ \t]/.test(line));
  if (indented >= 0)
    throw malformed(`line ${indented + 1} of the SSH signature is indented; the armor's lines start at the margin`);
  const padded = text.findIndex((line) => /[ \t]$/.test(line));
  if (padded >= 0)
    throw malformed(`line ${padded + 1} of the SSH signature ends in spaces; the armor's lines have none`);
  const first = text[0] ?? '';
  if (first !== BEGIN) {
    if (!isArmorLine(first)) throw malformed(`the SSH signature does not start with ${BEGIN}`);
    throw malformed(
      `the SSH signature's header is ${quoted(first)}; the armor header must be exactly ${exactly(first, BEGIN)}`,
    );
  }
  const footer = text.indexOf(END);
  if (footer < 0) {
    const last = text.at(-1) ?? '';
    if (text.length > 1 && isArmorLine(last)) {
      throw malformed(
        `the SSH signature's footer is ${quoted(last)}; the armor footer must be exactly ${exactly(last, END)}`,
      );
    }
    throw malformed(`the SSH signature has no ${END} line (truncated?)`);
  }
  if (footer !== text.length - 1) throw malformed(`the SSH signature has text after ${END}`);
  const body = text.slice(1, footer);
  if (body.length === 0) throw malformed('the SSH signature has no base64 between its header and footer');
  for (const [i, line] of body.entries()) {
    if (!/^[A-Za-z0-9+/=]+$/.test(line)) {
      throw malformed(`line ${i + 2} of the SSH signature is ${line === '' ? 'empty' : 'not base64'}`);
    }
  }
  const data = body.join('');
  if (data.length % 4 !== 0) {
    throw malformed(`the SSH signature's base64 is ${data.length} characters, not a multiple of 4 (truncated?)`);
  }
  try {
    return decodeBase64(data);
  } catch (error) {
    if (error instanceof Base64Error) throw malformed(`the SSH signature: ${error.message}`);
    throw error;
  }
}

/** Reads an armored signature; throws SshSignatureError naming the first thing wrong. */
export function parseSshSignature(armored: string): SshSignature {
  const blob = dearmorSshSignature(armored);
  try {
    return readBlob(blob);
  } catch (error) {
    if (error instanceof SshWireError) throw malformed(error.message);
    throw error;
  }
}

function readBlob(blob: Uint8Array): SshSignature {
  const reader = new SshReader(blob, 'the SSH signature');
  if (!bytesEqual(reader.fixed(MAGIC.length, 'the preamble'), MAGIC)) {
    throw malformed('the SSH signature does not start with "SSHSIG"');
  }
  const version = reader.uint32('the version');
  if (version !== VERSION) {
    throw new SshSignatureError('unsupported-version', `the SSH signature is version ${version}; only 1 is read`);
  }
  const keyBlob = reader.string('the public key');
  let key: SshKeyData;
  try {
    key = readSshKeyBlob(keyBlob, "the SSH signature's public key");
  } catch (error) {
    if (error instanceof KeyError) throw new SshSignatureError('unsupported-key-type', error.message);
    throw error;
  }
  const namespace = reader.text('the namespace');
  if (namespace === '') throw malformed('the SSH signature has an empty namespace, which PROTOCOL.sshsig forbids');
  const reserved = reader.string('the reserved field');
  if (reserved.length !== 0) {
    throw malformed(`the SSH signature's reserved field holds ${reserved.length} bytes; version 1 leaves it empty`);
  }
  const hash = reader.text('the hash algorithm');
  if (!HASHES.includes(hash)) {
    throw new SshSignatureError(
      'unsupported-hash',
      `the SSH signature hashes with ${JSON.stringify(hash.slice(0, 40))}; only sha256 and sha512 are read`,
    );
  }
  const inner = new SshReader(reader.string('the signature'), "the SSH signature's signature field");
  reader.end();
  const type = inner.text('the signature type');
  if (type !== sshKeyTypeName(key.kind)) {
    throw malformed(
      `the SSH signature's signature is ${JSON.stringify(type.slice(0, 60))}, its key ${sshKeyTypeName(key.kind)}`,
    );
  }
  const signature = inner.string('the Ed25519 signature').slice();
  if (signature.length !== 64) {
    throw malformed(`the SSH signature's Ed25519 signature is ${signature.length} bytes, expected 64`);
  }
  const common = { namespace, hash: hash as SshHash, signature };
  if (key.kind === 'ssh-ed25519') {
    inner.end();
    return { ...common, kind: key.kind, key };
  }
  const flags = inner.byte('the flags');
  const counter = inner.uint32('the counter');
  inner.end();
  return { ...common, kind: key.kind, key, flags, counter };
}

/**
 * What the SSH key signs (PROTOCOL.sshsig section 3): "SSHSIG", string namespace, string
 * reserved (empty), string hash algorithm, string H(message).
 */
export function sshSignedData(namespace: string, hash: SshHash, digest: Uint8Array): Uint8Array {
  return concatBytes(MAGIC, sshString(namespace), sshString(new Uint8Array(0)), sshString(hash), sshString(digest));
}

/**
 * What a security key signs for `data` (PROTOCOL.u2f, "SSH U2F signatures"; ssh-ed25519-sk.c
 * `ssh_ed25519_sk_verify`): SHA-256(application) || flags || uint32 counter || SHA-256(data).
 * No extensions: OpenSSH defines none, and its verifier leaves them out.
 */
export function fidoSignedData(application: string, flags: number, counter: number, data: Uint8Array): Uint8Array {
  return concatBytes(sha256Bytes(application), sshByte(flags), sshUint32(counter), sha256Bytes(data));
}
