import { KeyError, parsePublicKey, type PublicKey } from '../../src/crypto/keys.js';
import { formatPublicKey } from '../../src/crypto/keys.js';
import { DevVarsError, devVarsLines, trustedKeysOfLine } from '../dev-vars.js';
import { CliError } from './errors.js';

/**
 * Editing `.dev.vars` (the dotenv file `wrangler dev` loads) so that its
 * `DEV_TRUSTED_KEYS` lists the given keys: whitespace-separated public keys,
 * one per key's bytes. Every other line is kept as it was.
 */

export interface DevVarsUpdate {
  readonly text: string;
  /** Every key now trusted, in order. */
  readonly keys: readonly PublicKey[];
  /** The given keys that were not there before. */
  readonly added: readonly PublicKey[];
}

/** `text` (the file, or undefined when there is none) with `keys` added to DEV_TRUSTED_KEYS. */
export function addTrustedKeys(text: string | undefined, keys: readonly PublicKey[]): DevVarsUpdate {
  const lines = text === undefined || text === '' ? [] : devVarsLines(text);
  const eol = text?.includes('\r\n') ? '\r\n' : '\n';
  const trusted: PublicKey[] = [];
  const seen = new Set<string>();
  let at = -1;
  const kept: string[] = [];
  for (const line of lines) {
    let words: string[] | undefined;
    try {
      words = trustedKeysOfLine(line);
    } catch (error) {
      if (error instanceof DevVarsError) throw new CliError(error.message);
      throw error;
    }
    if (words === undefined) {
      kept.push(line);
      continue;
    }
    if (at < 0) at = kept.length;
    for (const word of words) {
      let key: PublicKey;
      try {
        key = parsePublicKey(word);
      } catch (error) {
        if (error instanceof KeyError)
          throw new CliError(`.dev.vars: DEV_TRUSTED_KEYS holds something that is not a public key: ${error.message}`);
        throw error;
      }
      if (!seen.has(key.id)) {
        seen.add(key.id);
        trusted.push(key);
      }
    }
  }
  const added: PublicKey[] = [];
  for (const key of keys) {
    if (seen.has(key.id)) continue;
    seen.add(key.id);
    trusted.push(key);
    added.push(key);
  }
  const line = `DEV_TRUSTED_KEYS="${trusted.map(formatPublicKey).join(' ')}"`;
  if (at < 0) kept.push(line);
  else kept.splice(at, 0, line);
  return { text: `${kept.join(eol)}${eol}`, keys: trusted, added };
}
