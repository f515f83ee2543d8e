import { KeyError, parsePublicKey, type PublicKey } from '../../src/crypto/keys.js';
import { formatPublicKey } from '../../src/crypto/keys.js';
import { CliError } from './errors.js';

/**
 * Editing `.dev.vars` (the dotenv file `wrangler dev` loads) so that its
 * `DEV_TRUSTED_KEYS` lists the given keys: whitespace-separated public keys,
 * one per key's bytes. Every other line is kept as it was.
 */

const LINE = /^\s*(?:export\s+)?DEV_TRUSTED_KEYS\s*=\s*(.*)$/;

function unquote(value: string): string {
  const v = value.trim();
  const m = /^"(.*)"$/.exec(v) ?? /^'(.*)'$/.exec(v);
  return m ? (m[1] ?? '') : v.replace(/\s+#.*$/, '');
}

export interface DevVarsUpdate {
  readonly text: string;
  /** Every key now trusted, in order. */
  readonly keys: readonly PublicKey[];
  /** The given keys that were not there before. */
  readonly added: readonly PublicKey[];
}

/** `text` (the file, or undefined when there is none) with `keys` added to DEV_TRUSTED_KEYS. */
export function addTrustedKeys(text: string | undefined, keys: readonly PublicKey[]): DevVarsUpdate {
  const lines = text === undefined || text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const trusted: PublicKey[] = [];
  const seen = new Set<string>();
  let at = -1;
  const kept: string[] = [];
  for (const line of lines) {
    const m = LINE.exec(line);
    if (!m) {
      kept.push(line);
      continue;
    }
    if (at < 0) at = kept.length;
    for (const word of unquote(m[1] ?? '')
      .split(/\s+/)
      .filter((w) => w !== '')) {
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
  return { text: `${kept.join('\n')}\n`, keys: trusted, added };
}
