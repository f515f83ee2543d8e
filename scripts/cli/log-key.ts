import { MAX_CHECKPOINT_BYTES } from '../../src/log/checkpoint.js';
import { LogError } from '../../src/log/errors.js';
import { ED25519 } from '../../src/log/note.js';
import { maxTileBytes } from '../../src/log/tiles.js';
import { MAX_VKEY_BYTES, parseVerifierKey, type VerifierKey } from '../../src/log/vkey.js';
import { UsageError } from './errors.js';

/**
 * `--log-key VKEY`: the log's own key, a c2sp.org/signed-note verifier key of type 0x01. A
 * witness's cosigner key (type 0x04) is a vkey too, but no log signs its checkpoints with one.
 */
export function logKeyOption(text: string | undefined, command: string): VerifierKey | undefined {
  if (text === undefined) return undefined;
  let key: VerifierKey;
  try {
    key = parseVerifierKey(text);
  } catch (error) {
    if (error instanceof LogError) throw new UsageError(`--log-key: ${error.message}`, command);
    throw error;
  }
  if (key.type !== ED25519) {
    throw new UsageError(
      `--log-key: ${key.name}+${key.keyId.toString(16).padStart(8, '0')} is a cosigner's key (type 0x04); give the log's own key (type 0x01), as \`flake-registry pubkey --vkey\` prints it or /registries/NAME/log/key serves it`,
      command,
    );
  }
  return key;
}

/**
 * The most the command reads of an answer of a log route (`…/log/checkpoint`, `…/log/key`,
 * `…/log/tile/…`): what the service can send there, far below the limit of other answers.
 */
export function logAnswerLimit(path: string): number | undefined {
  const at = path.indexOf('/log/');
  if (at < 0) return undefined;
  const rest = path.slice(at + '/log/'.length);
  if (rest === 'checkpoint') return MAX_CHECKPOINT_BYTES;
  if (rest === 'key') return MAX_VKEY_BYTES;
  return maxTileBytes(rest);
}
