import { Hono, type Context } from 'hono';
import type { PublicKey } from '../../crypto/keys.js';
import { LogError } from '../../log/errors.js';
import { parseNote } from '../../log/note.js';
import { readLogKey } from '../../log/origin.js';
import { parseTilePath, TILE_WIDTH, type TilePath } from '../../log/tiles.js';
import { formatVerifierKey, verifierKey } from '../../log/vkey.js';
import type { WriterRpc } from '../../writer/contract.js';
import { writerFailure } from '../../store/errors.js';
import { StorageError } from '../../store/errors.js';
import { cacheControl } from '../caching.js';
import type { AppEnv } from '../env.js';
import { queryParams, registryName } from '../params.js';
import { Problem } from '../problem.js';

/**
 * Each registry's transparency log (docs/log.md): the signed checkpoint, the
 * log's verifier key, and its tiles, all under /registries/NAME/log/.
 */

const TEXT = 'text/plain; charset=utf-8';

/** The log key this deployment signs with, or the problem that it has none that works. */
async function logKey(c: Context<AppEnv>) {
  const read = await readLogKey((c.env as { LOG_SIGNING_KEY?: string }).LOG_SIGNING_KEY);
  if (!read) {
    throw new Problem(
      'no-log-key',
      'no log key is configured (the LOG_SIGNING_KEY secret): registries are served, but without signed checkpoints of their transparency log',
    );
  }
  if ('problem' in read) throw new Problem('registry-misconfigured', read.problem);
  return read.key;
}

/** Whether a stored note carries a signature line of `key` (read, not verified: this is the service's own). */
function signedBy(note: string, key: PublicKey): boolean {
  const id = verifierKey(key).keyId;
  try {
    return parseNote(note).lines.some((line) => line.name === key.name && line.keyId === id);
  } catch (error) {
    if (error instanceof LogError) return false;
    throw error;
  }
}

async function hostedHead(c: Context<AppEnv>, name: string): Promise<number> {
  const head = await c.var.store.head(name);
  if (!head) throw new Problem('unknown-registry', `no registry named '${name}' is hosted here`);
  return head.version;
}

/** How many leaves a tile or bundle covers to its end: it exists only once the log is that large. */
function leavesCovered(tile: TilePath): number {
  if (tile.kind === 'entries') return tile.bundle.index * TILE_WIDTH + tile.bundle.width;
  return (tile.tile.index * TILE_WIDTH + tile.tile.width) * TILE_WIDTH ** tile.tile.level;
}

export const logRoutes = new Hono<AppEnv>()
  .get('/registries/:name/log/checkpoint', async (c) => {
    const name = registryName(c.req.param('name'));
    queryParams(c.req.url, []);
    const key = await logKey(c);
    await hostedHead(c, name);
    let note = await c.var.store.checkpoint(name);
    if (note === null || !signedBy(note, key.publicKey)) {
      // KV has none yet, or one by a key this deployment no longer signs with: the writer
      // publishes what it lacks (signing anew with the key it has) and hands over its latest.
      const writer: WriterRpc = c.env.REGISTRY_WRITER.get(c.env.REGISTRY_WRITER.idFromName(name));
      try {
        note = (await writer.checkpoint()) ?? null;
      } catch (cause) {
        throw writerFailure(name, cause);
      }
      if (note === null) throw new StorageError(`registry '${name}' has no checkpoint yet`);
      // The writer signs at most once a second, so a new key's first note may be a moment away.
      if (!signedBy(note, key.publicKey)) {
        throw new StorageError(`registry '${name}': its checkpoint is being signed with the new log key`);
      }
    }
    return c.body(note, 200, { 'Content-Type': TEXT, 'Cache-Control': cacheControl.checkpoint });
  })
  .get('/registries/:name/log/key', async (c) => {
    const name = registryName(c.req.param('name'));
    queryParams(c.req.url, []);
    const key = await logKey(c);
    await hostedHead(c, name);
    return c.body(`${formatVerifierKey(verifierKey(key.publicKey))}\n`, 200, {
      'Content-Type': TEXT,
      'Cache-Control': cacheControl.listing,
    });
  })
  .get('/registries/:name/log/tile/*', async (c) => {
    const name = registryName(c.req.param('name'));
    queryParams(c.req.url, []);
    const path = c.req.path.slice(`/registries/${name}/log/`.length);
    let tile: TilePath;
    try {
      tile = parseTilePath(path);
    } catch (error) {
      if (!(error instanceof LogError)) throw error;
      throw new Problem('invalid-request', `${path}: ${error.message}`);
    }
    const head = await hostedHead(c, name);
    // Never asked of KV beyond the log's size: KV caches a miss, which would hide the tile once it exists.
    const bytes = leavesCovered(tile) > head ? null : await c.var.store.logTile(name, path);
    if (bytes === null) {
      throw new Problem('unknown-tile', `registry '${name}' has no ${path}: its log has ${head} leaves`);
    }
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': 'application/octet-stream',
      'Cache-Control': cacheControl.immutable,
    });
  });
