import { formatPublicKey, KeyError, parsePublicKey, type PublicKey } from './keys.js';
import { formatSshPublicKey, isSshKeyTypeName, parseSshPublicKey, type SshPublicKey } from './ssh-keys.js';

/**
 * A key a policy trusts, in either form a policy lists it:
 *
 *   NAME:BASE64             Nix's format (keys.ts): 32 Ed25519 bytes
 *   NAME:SSH_KEY_LINE       an OpenSSH public key as authorized_keys or allowed_signers hold it
 *                           (ssh-keys.ts): `alice:ssh-ed25519 AAAA… alice@laptop`,
 *                           `bob:sk-ssh-ed25519@openssh.com AAAA…`
 *
 * Which form is told from what follows the first ':': an SSH key line has a space or tab
 * (a type, then its base64), or starts with a key type word; Nix's base64 never holds either.
 * Either way `id` is the base64 of the 32 key bytes, so one key in both forms is one key.
 */
export type TrustedKey = PublicKey | SshPublicKey;

export const isSshKey = (key: TrustedKey): key is SshPublicKey => 'kind' in key;

/** Whether the part of a key entry after NAME: is an SSH key line rather than Nix's base64. */
function isSshLine(rest: string): boolean {
  return /[ \t]/.test(rest) || isSshKeyTypeName(rest);
}

/** Reads a key entry in either form; throws KeyError saying what is wrong and what is accepted. */
export function parseTrustedKey(text: string): TrustedKey {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  if (colon < 0) {
    throw new KeyError(
      "public key is not NAME:BASE64 (Nix) or NAME:TYPE BASE64 [COMMENT] (an OpenSSH key line); no ':'",
    );
  }
  const rest = trimmed.slice(colon + 1);
  if (!isSshLine(rest)) return parsePublicKey(trimmed);
  return parseSshPublicKey(rest, trimmed.slice(0, colon));
}

/**
 * A key as the API shows it: `NAME:BASE64` for a key in Nix's format, `NAME:TYPE BASE64` for
 * an SSH key (its comment and an allowed_signers line's principals and options left out).
 */
export function formatTrustedKey(key: TrustedKey): string {
  return isSshKey(key) ? `${key.name}:${formatSshPublicKey(key)}` : formatPublicKey(key);
}
