import { encodeBase64 } from '../crypto/base64.js';
import { sha256HexSync } from '../crypto/sha256.js';
import { followLog, readVersionLeaves } from '../log/client.js';
import { LogError } from '../log/errors.js';
import { logOrigin } from '../log/origin.js';
import { parseVerifierKey, type VerifierKey } from '../log/vkey.js';
import type { HistoryVersion } from '../protocol/verify.js';
import { ServedError, type RawAnswer, type ServedSource } from './source.js';

/** A registry's transparency log (docs/log.md) checked whole against the history it was served with. */

export interface FetchedCheckpoint {
  readonly key: VerifierKey;
  /** Whether the key was given (pinned), rather than the one the service gives. */
  readonly pinned: boolean;
  readonly note: Uint8Array;
}

export type LogAbsent = { readonly absent: string };

export type LogResult =
  | LogAbsent
  | { readonly size: number; readonly root: string; readonly key: string; readonly pinned: boolean }
  | { readonly code: string; readonly reason: string };

const NO_LOG = 'the service keeps no transparency log: no log key is configured';

const logBase = (name: string): string => `/registries/${encodeURIComponent(name)}/log`;

/** The log's key and checkpoint note, or why the service has no log. */
export async function fetchCheckpoint<A extends RawAnswer>(
  source: ServedSource<A>,
  name: string,
  pinned: VerifierKey | undefined,
): Promise<FetchedCheckpoint | LogAbsent> {
  const answer = async (path: string): Promise<Uint8Array | undefined> => {
    const got = await source.raw(`${logBase(name)}/${path}`);
    if (got.status === 200) return got.bytes;
    const text = new TextDecoder().decode(got.bytes);
    if (got.status === 404 && text.includes('urn:flake-registry:problem:no-log-key')) return undefined;
    throw source.refusal(`${logBase(name)}/${path}`, got);
  };
  const note = await answer('checkpoint');
  if (note === undefined) {
    if (pinned)
      throw new ServedError('no-log', `registry '${name}' has no log on this service, though a key was given`);
    return { absent: NO_LOG };
  }
  if (pinned) return { key: pinned, pinned: true, note };
  const served = await answer('key');
  if (served === undefined) return { absent: NO_LOG };
  try {
    return { key: parseVerifierKey(new TextDecoder().decode(served)), pinned: false, note };
  } catch (error) {
    if (error instanceof LogError) {
      throw new ServedError('bad-log-key', `${logBase(name)}/key is not a verifier key: ${error.message}`);
    }
    throw error;
  }
}

/** The whole log against the history: checkpoint, tiles, and each version's leaf against its record and file. */
export async function checkLog<A extends RawAnswer>(
  source: ServedSource<A>,
  name: string,
  log: FetchedCheckpoint,
  versions: readonly HistoryVersion[],
  now: number,
): Promise<LogResult> {
  const encoder = new TextEncoder();
  try {
    const followed = await followLog(log.note, {
      key: log.key,
      origin: logOrigin(log.key.name, name),
      now,
      // The history is what is verified here, not how recent the checkpoint is.
      maxAgeMs: Number.MAX_SAFE_INTEGER,
      fetchTile: async (path) => {
        const got = await source.raw(`${logBase(name)}/${path}`);
        if (got.status !== 200) throw source.refusal(`${logBase(name)}/${path}`, got);
        return got.bytes;
      },
    });
    const { size } = followed.checkpoint;
    if (size > versions.length) {
      return {
        code: 'log-ahead',
        reason: `its checkpoint names ${size} versions, but the history has ${versions.length}`,
      };
    }
    const leaves = size === 0 ? [] : await readVersionLeaves(followed.reader, name, 1, size);
    for (const leaf of leaves) {
      const version = versions[leaf.version - 1] as HistoryVersion;
      const record = sha256HexSync(encoder.encode(version.recordText));
      const file = sha256HexSync(encoder.encode(version.file));
      if (leaf.record !== record || leaf.file !== file) {
        const what = leaf.record !== record ? `record hashes to ${record}` : `file hashes to ${file}`;
        return {
          code: 'leaf-mismatch',
          reason: `version ${leaf.version}'s ${what}, but its leaf in the log holds ${leaf.record !== record ? leaf.record : leaf.file}`,
        };
      }
    }
    return { size, root: encodeBase64(followed.checkpoint.root), key: log.key.name, pinned: log.pinned };
  } catch (error) {
    if (error instanceof LogError) return { code: error.code, reason: error.message };
    throw error;
  }
}
