import { bytesEqual } from '../crypto/bytes.js';
import { encodeBase64 } from '../crypto/base64.js';
import { openCheckpoint, type OpenCheckpointOptions, type OpenedCheckpoint } from './checkpoint.js';
import { LogError } from './errors.js';
import { leafIndex, parseLeafData, type Leaf } from './leaf.js';
import { TileReader, type FetchTile } from './tile-reader.js';

/**
 * What a client does with a registry's log, as docs/log.md lists it: each check in order, each
 * failing with its own code. A client keeps the size and root of the last checkpoint it
 * verified (nothing at first) and, on each sync:
 *
 *  1. opens the checkpoint note with the pinned vkey (malformed-note, unknown-key,
 *     bad-signature, missing-signature): only the log could have said this;
 *  2. reads the checkpoint strictly and checks its origin (malformed-checkpoint,
 *     wrong-origin): this is the log of the registry asked for, not another one's;
 *  3. checks the cosignature's time against its clock (stale, future): the view is recent, so
 *     a server or cache cannot keep showing an old checkpoint after newer versions exist;
 *  4. refuses a smaller tree than the one it kept (rollback): the log only grows;
 *  5. authenticates every tile it reads against the signed root (tile-mismatch): tiles come
 *     from caches and KV and are never trusted on their own;
 *  6. recomputes the kept size's root from those tiles, which must be the kept root
 *     (inconsistent): the new tree extends the old one, so nobody was shown another history.
 */

export interface KeptCheckpoint {
  readonly size: number;
  readonly root: Uint8Array;
}

export interface FollowLogOptions extends OpenCheckpointOptions {
  /** The last checkpoint this client verified of this log, if any. */
  readonly kept?: KeptCheckpoint;
  readonly fetchTile: FetchTile;
}

export interface FollowedLog extends OpenedCheckpoint {
  /** Reads the new tree's leaves, every tile checked against its root. */
  readonly reader: TileReader;
}

/** Checks a fetched checkpoint note against the one kept (steps 1 to 6 above). */
export async function followLog(note: string | Uint8Array, options: FollowLogOptions): Promise<FollowedLog> {
  const opened = await openCheckpoint(note, options);
  const { size, root } = opened.checkpoint;
  const reader = new TileReader({ size, root }, options.fetchTile);
  const kept = options.kept;
  if (kept) {
    if (kept.size > size) {
      throw new LogError(
        'rollback',
        `the log shows ${size} versions, fewer than the ${kept.size} it showed before: it must only grow`,
      );
    }
    const then = kept.size === size ? root : await reader.rootAt(kept.size);
    if (!bytesEqual(then, kept.root)) {
      throw new LogError(
        'inconsistent',
        `the log forked: its tree of ${size} versions has root ${encodeBase64(then)} at size ${kept.size}, ` +
          `but the checkpoint kept for size ${kept.size} has root ${encodeBase64(kept.root)}`,
      );
    }
  }
  return { ...opened, reader };
}

/**
 * The leaves of versions [from, to] of `registry`, read and authenticated through `reader`;
 * refuses a leaf that is not the one that version must have (another registry's, or another
 * version's), since a leaf's place in the log is what its version number means.
 */
export async function readVersionLeaves(
  reader: TileReader,
  registry: string,
  from: number,
  to: number,
): Promise<Leaf[]> {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || to < from - 1) {
    throw new RangeError(`versions ${from} to ${to} are not a range of versions`);
  }
  const entries = await reader.entries(leafIndex(from), leafIndex(to) + 1);
  return entries.map((entry, i) => {
    const version = from + i;
    const leaf = parseLeafData(entry);
    if (leaf.registry !== registry || leaf.version !== version) {
      throw new LogError(
        'malformed-leaf',
        `leaf ${leafIndex(version)} is version ${leaf.version} of '${leaf.registry}', not version ${version} of '${registry}'`,
      );
    }
    return leaf;
  });
}
