import { Base64Error, decodeBase64, encodeBase64 } from '../crypto/base64.js';
import { KeyError, checkKeyName, parsePublicKey, type PublicKey } from '../crypto/keys.js';
import { LogError } from './errors.js';
import { COSIGNATURE_V1, ED25519, formatKeyId, keyId, noteKeyNameProblem } from './note.js';

/**
 * Verifier keys (vkeys) of c2sp.org/signed-note, the text a client pins:
 *
 *   NAME+HEX(key id)+BASE64(type || public key)
 *
 * for example `example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k`. Only
 * the two Ed25519 types are read: 0x01 (a note signature) and 0x04 (a tlog-cosignature). The
 * key id must be the one the name, type and key give, in lowercase hex, and the public key must
 * pass the checks Nix-format keys pass (canonical, not of small order: docs/protocol.md). The
 * name is split at the first '+', as names hold none; whitespace around the whole text (a
 * file's final newline) is ignored.
 */

export type VerifierKeyType = typeof ED25519 | typeof COSIGNATURE_V1;

export interface VerifierKey {
  readonly name: string;
  readonly keyId: number;
  readonly type: VerifierKeyType;
  readonly publicKey: PublicKey;
}

const ED25519_KEY_BYTES = 32;

/** The most bytes a client reads of a served vkey: a name and 44 characters of key. */
export const MAX_VKEY_BYTES = 1024;

/** The vkey of a public key (in Nix's format, named as the note key will be) for one signature type. */
export function verifierKey(key: PublicKey, type: VerifierKeyType = ED25519): VerifierKey {
  const why = noteKeyNameProblem(key.name);
  if (why !== undefined) throw new LogError('malformed-key', `key name ${JSON.stringify(key.name)} ${why}`);
  return { name: key.name, keyId: keyId(key.name, type, key.bytes), type, publicKey: key };
}

export function formatVerifierKey(key: VerifierKey): string {
  const material = new Uint8Array(1 + key.publicKey.bytes.length);
  material[0] = key.type;
  material.set(key.publicKey.bytes, 1);
  return `${key.name}+${formatKeyId(key.keyId)}+${encodeBase64(material)}`;
}

export function parseVerifierKey(text: string): VerifierKey {
  const trimmed = text.trim();
  const refuse = (why: string): never => {
    throw new LogError('malformed-key', `not a verifier key (NAME+KEYID+BASE64): ${why}`);
  };
  const first = trimmed.indexOf('+');
  const second = trimmed.indexOf('+', first + 1);
  if (first < 0 || second < 0) refuse("it does not have three parts separated by '+'");
  const name = trimmed.slice(0, first);
  const idText = trimmed.slice(first + 1, second);
  const encoded = trimmed.slice(second + 1);
  const bad = noteKeyNameProblem(name);
  if (bad !== undefined) refuse(`its name ${bad}`);
  try {
    checkKeyName(name);
  } catch (error) {
    if (error instanceof KeyError) refuse(`its name cannot name a Nix key: ${error.message}`);
    throw error;
  }
  if (!/^[0-9a-f]{8}$/.test(idText)) refuse(`its key id ${JSON.stringify(idText)} is not 8 lowercase hex digits`);
  let material: Uint8Array;
  try {
    material = decodeBase64(encoded);
  } catch (error) {
    if (error instanceof Base64Error) return refuse(`its key: ${error.message}`);
    throw error;
  }
  if (encodeBase64(material) !== encoded) refuse('its key is not padded standard base64');
  const type = material[0];
  if (type !== ED25519 && type !== COSIGNATURE_V1) {
    refuse(
      type === undefined
        ? 'its key is empty'
        : `its signature type 0x${type.toString(16).padStart(2, '0')} is not Ed25519 (0x01) or an Ed25519 cosignature (0x04)`,
    );
  }
  const keyBytes = material.subarray(1);
  if (keyBytes.length !== ED25519_KEY_BYTES) {
    refuse(`its Ed25519 key is ${keyBytes.length} bytes, expected ${ED25519_KEY_BYTES}`);
  }
  let publicKey: PublicKey;
  try {
    publicKey = parsePublicKey(`${name}:${encodeBase64(keyBytes)}`);
  } catch (error) {
    if (error instanceof KeyError) return refuse(error.message);
    throw error;
  }
  const key = verifierKey(publicKey, type as VerifierKeyType);
  if (formatKeyId(key.keyId) !== idText) {
    refuse(`its key id is ${idText}, but its name, type and key give ${formatKeyId(key.keyId)}`);
  }
  return key;
}
