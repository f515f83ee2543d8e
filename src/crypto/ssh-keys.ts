import { Base64Error, decodeBase64, encodeBase64 } from './base64.js';
import { bytesEqual, concatBytes } from './bytes.js';
import { checkKeyName, KeyError, parsePublicKey, type PublicKey } from './keys.js';
import { sha256Bytes } from './sha256.js';
import { checkAllowedSignersOptions, SshOptionError } from './ssh-options.js';
import { SshReader, sshString, SshWireError } from './ssh-wire.js';

/**
 * OpenSSH public keys, as a user pastes them: a `.pub` file or authorized_keys line
 * `TYPE BASE64 [COMMENT]`, or an allowed_signers line `PRINCIPALS [OPTIONS] TYPE BASE64
 * [COMMENT]` (ssh-keygen(1)). Two types are accepted:
 *
 *   ssh-ed25519                 string "ssh-ed25519", string key (32 bytes)
 *   sk-ssh-ed25519@openssh.com  string "sk-ssh-ed25519@openssh.com", string key (32 bytes),
 *                               string application (PROTOCOL.u2f; "ssh:" unless chosen)
 *
 * RSA, DSA, ECDSA, security-key ECDSA and every certificate type are refused by name. The
 * base64 must be padded (OpenSSH's b64_pton refuses it otherwise) and canonical (base64.ts),
 * the blob's own type must be the line's, and nothing may follow its last field
 * (sshkey.c `sshkey_from_blob_internal` refuses that too).
 *
 * An SSH key is the same identity as the same 32 bytes in Nix's format: `id` is what
 * parsePublicKey gives for them, and the same small-order and non-canonical points are refused.
 * A security key's application is part of what it signs, so two sk keys are the same signer
 * only when their applications are equal too (`sameSshKey`).
 */

/** The namespace every SSH signature for this service is made in (PROTOCOL.sshsig section 2). */
export const SSH_NAMESPACE = 'flake-registry';

export type SshKeyKind = 'ssh-ed25519' | 'sk-ssh-ed25519';

/** What a key blob holds. */
export type SshKeyData =
  | { readonly kind: 'ssh-ed25519'; readonly bytes: Uint8Array }
  | { readonly kind: 'sk-ssh-ed25519'; readonly bytes: Uint8Array; readonly application: string };

export type SshPublicKey = PublicKey &
  SshKeyData & {
    /** The text after the key, '' when there is none. */
    readonly comment: string;
    /** An allowed_signers line's principals; empty for a key line. */
    readonly principals: readonly string[];
  };

const TYPE_NAMES: Readonly<Record<SshKeyKind, string>> = {
  'ssh-ed25519': 'ssh-ed25519',
  'sk-ssh-ed25519': 'sk-ssh-ed25519@openssh.com',
};

const ACCEPTED = 'only ssh-ed25519 and sk-ssh-ed25519@openssh.com keys can sign here';

/** Key types OpenSSH knows that are refused here, with what to call them. */
const REFUSED: Readonly<Record<string, string>> = {
  'ssh-rsa': 'RSA',
  'ssh-dss': 'DSA',
  'ecdsa-sha2-nistp256': 'ECDSA',
  'ecdsa-sha2-nistp384': 'ECDSA',
  'ecdsa-sha2-nistp521': 'ECDSA',
  'sk-ecdsa-sha2-nistp256@openssh.com': 'security-key ECDSA',
  'ssh-xmss@openssh.com': 'XMSS',
};

const CERTIFICATE = /-cert-v0[01]@openssh\.com$/;

const kindOfTypeName = (name: string): SshKeyKind | undefined =>
  (Object.keys(TYPE_NAMES) as SshKeyKind[]).find((kind) => TYPE_NAMES[kind] === name);

export const sshKeyTypeName = (kind: SshKeyKind): string => TYPE_NAMES[kind];

/** Whether `word` is a key type OpenSSH writes, accepted here or not. */
export function isSshKeyTypeName(word: string): boolean {
  return kindOfTypeName(word) !== undefined || word in REFUSED || CERTIFICATE.test(word);
}

/** Why a key type cannot sign here, or undefined when it can. */
export function unsupportedKeyType(name: string): string | undefined {
  if (kindOfTypeName(name) !== undefined) return undefined;
  if (CERTIFICATE.test(name)) {
    return `SSH certificates (${name}) are not accepted, give the key itself (its .pub without -cert); ${ACCEPTED}`;
  }
  const what = REFUSED[name];
  if (what === undefined) return `key type ${JSON.stringify(name.slice(0, 60))} is unknown; ${ACCEPTED}`;
  const hint = name.startsWith('sk-') ? ' (make an ed25519-sk key: ssh-keygen -t ed25519-sk)' : '';
  return `${what} keys (${name}) are not accepted; ${ACCEPTED}${hint}`;
}

/**
 * The key in an SSH key blob, checked field by field; throws SshWireError for a malformed
 * blob and KeyError for an unsupported type. `expected` is the type the blob must have.
 */
export function readSshKeyBlob(blob: Uint8Array, what: string, expected?: string): SshKeyData {
  const reader = new SshReader(blob, what);
  const type = reader.text('the key type');
  if (expected !== undefined && type !== expected) {
    throw new KeyError(
      `${what} holds a ${JSON.stringify(type.slice(0, 60))} key, but the text before it says ${expected}`,
    );
  }
  const kind = kindOfTypeName(type);
  if (kind === undefined) throw new KeyError(`${what}: ${unsupportedKeyType(type) ?? ''}`);
  const bytes = reader.string('the Ed25519 key').slice();
  if (bytes.length !== 32) throw new SshWireError(`${what}: the Ed25519 key is ${bytes.length} bytes, expected 32`);
  if (kind === 'ssh-ed25519') {
    reader.end();
    return { kind, bytes };
  }
  const application = reader.text('the application');
  reader.end();
  return { kind, bytes, application };
}

export function sshKeyBlob(key: SshKeyData): Uint8Array {
  const head = concatBytes(sshString(TYPE_NAMES[key.kind]), sshString(key.bytes));
  return key.kind === 'ssh-ed25519' ? head : concatBytes(head, sshString(key.application));
}

/** `TYPE BASE64`, as a `.pub` file starts; no comment. */
export function formatSshPublicKey(key: SshKeyData): string {
  return `${TYPE_NAMES[key.kind]} ${encodeBase64(sshKeyBlob(key))}`;
}

/** Whether two keys sign alike: the same type, bytes and (for security keys) application. */
export function sameSshKey(a: SshKeyData, b: SshKeyData): boolean {
  if (a.kind !== b.kind || !bytesEqual(a.bytes, b.bytes)) return false;
  return a.kind === 'ssh-ed25519' || (b.kind === 'sk-ssh-ed25519' && a.application === b.application);
}

/** Fields separated by spaces and tabs; the options field keeps quoted spaces. */
class Fields {
  #rest: string;

  constructor(line: string) {
    this.#rest = line;
  }

  get rest(): string {
    return this.#rest;
  }

  next(quoted = false): string | undefined {
    let i = 0;
    let inQuotes = false;
    while (i < this.#rest.length) {
      const c = this.#rest[i];
      if (quoted && c === '"') inQuotes = !inQuotes;
      else if (!inQuotes && (c === ' ' || c === '\t')) break;
      i++;
    }
    const field = this.#rest.slice(0, i);
    this.#rest = this.#rest.slice(i).replace(/^[ \t]+/, '');
    return field === '' ? undefined : field;
  }
}

const NIX_KEY = /^[^\s:]+:[A-Za-z0-9+/]+={0,2}$/;
const AUTHORIZED_KEYS_OPTION = /^(command|environment|expiry-time|from|permitlisten|permitopen|principals|tunnel)=/i;
const AUTHORIZED_KEYS_FLAG =
  /^(agent-forwarding|cert-authority|no-agent-forwarding|no-port-forwarding|no-pty|no-touch-required|no-user-rc|no-x11-forwarding|port-forwarding|pty|restrict|user-rc|verify-required|x11-forwarding)(,|$)/i;

/**
 * Reads one public key line (see the module comment) as the key `name`. Throws KeyError
 * with a message that says what is wrong and what is accepted.
 */
export function parseSshPublicKey(text: string, name: string): SshPublicKey {
  checkKeyName(name);
  const shown = `SSH public key '${name}'`;
  const line = text.trim();
  if (line === '') throw new KeyError(`${shown} is empty`);
  if (/[\r\n]/.test(line)) throw new KeyError(`${shown} holds more than one line; give one key`);
  if (line.startsWith('-----BEGIN')) {
    throw new KeyError(`${shown} is a private key or PEM block; give its public key (the .pub file's line)`);
  }
  if (line.startsWith('#')) throw new KeyError(`${shown} is a comment line, not a key`);
  if (/[\p{Cc}]/u.test(line.replaceAll('\t', ' '))) throw new KeyError(`${shown} contains a control character`);

  const fields = new Fields(line);
  const { type, principals } = typeAndPrincipals(fields, line, shown);
  const unsupported = unsupportedKeyType(type);
  if (unsupported !== undefined) throw new KeyError(`${shown}: ${unsupported}`);
  const data = fields.next();
  if (data === undefined) throw new KeyError(`${shown} has no base64 key after ${type}`);
  const comment = fields.rest;
  const blob = decodePadded(data, shown);
  let key: SshKeyData;
  try {
    key = readSshKeyBlob(blob, `${shown}: the base64 key`, type);
  } catch (error) {
    if (error instanceof SshWireError) throw new KeyError(error.message);
    throw error;
  }
  const { id, bytes } = checkedPoint(key.bytes, name, shown);
  return Object.freeze({ ...key, bytes, name, id, comment, principals: Object.freeze(principals) });
}

/**
 * The key type, after the principals and options of an allowed_signers line when the first
 * field is not a type. Leaves `fields` at the base64.
 */
function typeAndPrincipals(fields: Fields, line: string, shown: string): { type: string; principals: string[] } {
  const first = fields.next() as string;
  if (isSshKeyTypeName(first)) return { type: first, principals: [] };
  if (NIX_KEY.test(line)) throw new KeyError(`${shown} is a key in Nix's format (NAME:BASE64), not an SSH key line`);
  if (AUTHORIZED_KEYS_OPTION.test(first) || AUTHORIZED_KEYS_FLAG.test(first)) {
    throw new KeyError(
      `${shown} starts with authorized_keys options; give the key as TYPE BASE64 [COMMENT], or an allowed_signers line`,
    );
  }
  const principals = first.split(',');
  if (principals.some((p) => p === '' || p.includes('"'))) {
    throw new KeyError(`${shown}: principals ${JSON.stringify(first.slice(0, 60))} must be a comma-separated list`);
  }
  let next = fields.next(true);
  if (next !== undefined && !isSshKeyTypeName(next)) {
    try {
      checkAllowedSignersOptions(next, SSH_NAMESPACE);
    } catch (error) {
      if (error instanceof SshOptionError) throw new KeyError(`${shown}: ${error.message}`);
      throw error;
    }
    next = fields.next();
  }
  if (next === undefined || !isSshKeyTypeName(next)) {
    throw new KeyError(
      `${shown} has no key type: expected TYPE BASE64 [COMMENT] or PRINCIPALS [OPTIONS] TYPE BASE64 [COMMENT] with TYPE ssh-ed25519 or sk-ssh-ed25519@openssh.com`,
    );
  }
  return { type: next, principals };
}

function decodePadded(data: string, shown: string): Uint8Array {
  if (data.length % 4 !== 0) {
    throw new KeyError(`${shown}: the base64 key is ${data.length} characters, not a multiple of 4 (padding missing?)`);
  }
  try {
    return decodeBase64(data);
  } catch (error) {
    if (error instanceof Base64Error) throw new KeyError(`${shown}: ${error.message}`);
    throw error;
  }
}

/** Refuses exactly what parsePublicKey refuses, and takes its id, so both formats agree. */
function checkedPoint(bytes: Uint8Array, name: string, shown: string): PublicKey {
  try {
    return parsePublicKey(`${name}:${encodeBase64(bytes)}`);
  } catch (error) {
    if (error instanceof KeyError) throw new KeyError(`${shown} ${error.message.replace(/^public key '[^']*' /, '')}`);
    throw error;
  }
}

/**
 * The fingerprint `ssh-keygen -l` prints: "SHA256:" and the unpadded base64 of the
 * SHA-256 of the key blob (sshkey.c `sshkey_fingerprint`, SSH_FP_BASE64).
 */
export function sshFingerprint(key: SshKeyData): string {
  return `SHA256:${encodeBase64(sha256Bytes(sshKeyBlob(key))).replace(/=+$/, '')}`;
}
