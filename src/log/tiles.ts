import { concatBytes } from '../crypto/bytes.js';
import { LogError } from './errors.js';
import { MAX_LEAF_BYTES } from './leaf.js';
import { HASH_BYTES, type MerkleTree } from './merkle.js';

/**
 * The static form of the tree, c2sp.org/tlog-tiles: tiles of height 8, each at most 256
 * hashes wide. Tile (L, N) holds the tree's nodes at level 8L with indices N*256 to N*256+255
 * (level 0: leaf hashes); a full tile's own root is the node at level 8(L+1), stored in the
 * tile above. The rightmost tile of a level may be partial (`.p/W`, W from 1 to 255), and
 * partial tiles are never hashed into the level above. Entry bundles carry the leaves' data
 * in the same shape as level-0 tiles.
 *
 * Paths, as served under a log's prefix (/registries/NAME/log/):
 *
 *   tile/L/N[.p/W]         L decimal 0..63; N in 3-digit groups, all but the last with an x
 *   tile/entries/N[.p/W]   (1234067 is x001/x234/067, 5 is 005)
 *
 * Every path has exactly one spelling; parseTilePath refuses any other, so a cache or a store
 * keyed by path never holds one tile twice.
 */

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** tlog-tiles limits levels to 63; so does any tree below 2^53 leaves, which needs 7. */
export const MAX_TILE_LEVEL = 63;
/** An entry's length is a big-endian uint16 in a bundle. */
export const MAX_ENTRY_BYTES = 0xffff;

/** A hash tile: `width` is 256 for a full tile, 1 to 255 for a partial one. */
export interface TileId {
  readonly level: number;
  readonly index: number;
  readonly width: number;
}

/** An entry bundle: the data of leaves index*256 to index*256 + width - 1. */
export interface BundleId {
  readonly index: number;
  readonly width: number;
}

export type TilePath =
  { readonly kind: 'tile'; readonly tile: TileId } | { readonly kind: 'entries'; readonly bundle: BundleId };

const isIndex = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

function checkWidth(width: number): void {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new RangeError(`a tile is 1 to ${TILE_WIDTH} wide, got ${width}`);
  }
}

function indexPath(index: number): string {
  if (!isIndex(index)) throw new RangeError(`a tile index is a non-negative safe integer, got ${index}`);
  const groups: string[] = [];
  let n = index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

const widthSuffix = (width: number): string => (width === TILE_WIDTH ? '' : `.p/${width}`);

export function tilePath(tile: TileId): string {
  if (!Number.isInteger(tile.level) || tile.level < 0 || tile.level > MAX_TILE_LEVEL) {
    throw new RangeError(`a tile level is 0 to ${MAX_TILE_LEVEL}, got ${tile.level}`);
  }
  checkWidth(tile.width);
  return `tile/${tile.level}/${indexPath(tile.index)}${widthSuffix(tile.width)}`;
}

export function bundlePath(bundle: BundleId): string {
  checkWidth(bundle.width);
  return `tile/entries/${indexPath(bundle.index)}${widthSuffix(bundle.width)}`;
}

const LEVEL = /^(0|[1-9][0-9]?)$/;
const WIDTH = /^[1-9][0-9]{0,2}$/;

/** Reads a path such as `tile/1/x001/234.p/7` or `tile/entries/005`; refuses every other spelling. */
export function parseTilePath(path: string): TilePath {
  const refuse = (why: string): never => {
    throw new LogError('malformed-tile-path', `${JSON.stringify(path.slice(0, 200))} is not a tile path: ${why}`);
  };
  const parts = path.split('/');
  if (parts[0] !== 'tile' || parts.length < 3) refuse('it is not tile/L/N or tile/entries/N');
  const [, levelText = ''] = parts;
  let width = TILE_WIDTH;
  let groups = parts.slice(2);
  const last = groups[groups.length - 1] ?? '';
  const beforeLast = groups[groups.length - 2] ?? '';
  if (beforeLast.endsWith('.p')) {
    if (!WIDTH.test(last) || Number(last) >= TILE_WIDTH)
      refuse(`a partial width is 1 to ${TILE_WIDTH - 1}, without leading zeros`);
    width = Number(last);
    groups = [...groups.slice(0, -2), beforeLast.slice(0, -2)];
  }
  if (groups.length > 6) refuse('the index has more than 6 groups of 3 digits');
  groups.forEach((g, i) => {
    const final = i === groups.length - 1;
    if (!(final ? /^[0-9]{3}$/ : /^x[0-9]{3}$/).test(g)) {
      refuse(
        final
          ? `index group ${JSON.stringify(g)} is not 3 digits`
          : `index group ${JSON.stringify(g)} is not x and 3 digits`,
      );
    }
  });
  if (groups.length > 1 && groups[0] === 'x000') refuse('the index has a leading x000 group');
  const index = groups.reduce((n, g) => n * 1000 + Number(g.slice(-3)), 0);
  if (!Number.isSafeInteger(index)) refuse('the index is too large');
  if (levelText === 'entries') return { kind: 'entries', bundle: { index, width } };
  if (!LEVEL.test(levelText) || Number(levelText) > MAX_TILE_LEVEL) {
    refuse(`the level is 0 to ${MAX_TILE_LEVEL} in decimal, without leading zeros`);
  }
  return { kind: 'tile', tile: { level: Number(levelText), index, width } };
}

/**
 * The most bytes the tile at `path` holds in this service's logs: a full hash tile's 256
 * hashes, or 256 of the longest leaves with their length prefixes; undefined when `path` is
 * not a tile path. A client stops reading a tile past it.
 */
export function maxTileBytes(path: string): number | undefined {
  let parsed: TilePath;
  try {
    parsed = parseTilePath(path);
  } catch (error) {
    if (error instanceof LogError) return undefined;
    throw error;
  }
  return parsed.kind === 'entries' ? TILE_WIDTH * (2 + MAX_LEAF_BYTES) : TILE_WIDTH * HASH_BYTES;
}

/** How many nodes level 8L of a tree of `size` leaves has: floor(size / 256^L). */
export function hashesAtLevel(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/**
 * The tiles and bundles a log of `size` leaves serves that a log of `oldSize` did not (every
 * tile when oldSize is 0): each full tile completed in between and the new partial tile of
 * each level. Hash tiles come level by level, bundles as level 0.
 */
export function newTiles(oldSize: number, size: number): { tiles: TileId[]; bundles: BundleId[] } {
  if (!isIndex(oldSize) || !isIndex(size) || oldSize > size) {
    throw new RangeError(`sizes must grow: ${oldSize} to ${size}`);
  }
  const tiles: TileId[] = [];
  for (let level = 0; hashesAtLevel(size, level) > 0; level++) {
    const before = hashesAtLevel(oldSize, level);
    const count = hashesAtLevel(size, level);
    if (count === before) continue;
    for (let index = Math.floor(before / TILE_WIDTH); index * TILE_WIDTH < count; index++) {
      tiles.push({ level, index, width: Math.min(TILE_WIDTH, count - index * TILE_WIDTH) });
    }
  }
  const bundles = tiles.filter((t) => t.level === 0).map(({ index, width }) => ({ index, width }));
  return { tiles, bundles };
}

/**
 * The tiles of a tree of `size` leaves that its root depends on: at each level, the partial
 * tile (when the level has one). Together they hash to the root, so they are authenticated
 * by it together; a full tile is authenticated by its hash in the tile above.
 */
export function edgeTiles(size: number): TileId[] {
  const out: TileId[] = [];
  for (let level = 0; hashesAtLevel(size, level) > 0; level++) {
    const width = hashesAtLevel(size, level) % TILE_WIDTH;
    if (width > 0) out.push({ level, index: Math.floor(hashesAtLevel(size, level) / TILE_WIDTH), width });
  }
  return out;
}

/** A tile's bytes: its hashes, 32 bytes each, in order (8,192 bytes when full). */
export function tileBytes(tree: MerkleTree, tile: TileId): Uint8Array {
  checkWidth(tile.width);
  const level = tile.level * TILE_HEIGHT;
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < tile.width; i++) hashes.push(tree.node(level, tile.index * TILE_WIDTH + i));
  return concatBytes(...hashes);
}

/** An entry bundle's bytes: each entry as a big-endian uint16 length, then its bytes. */
export function formatBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length < 1 || entries.length > TILE_WIDTH) {
    throw new RangeError(`a bundle holds 1 to ${TILE_WIDTH} entries, got ${entries.length}`);
  }
  const parts: Uint8Array[] = [];
  for (const [i, entry] of entries.entries()) {
    if (entry.length > MAX_ENTRY_BYTES) {
      throw new RangeError(`entry ${i} is ${entry.length} bytes; a bundle entry is at most ${MAX_ENTRY_BYTES}`);
    }
    parts.push(new Uint8Array([entry.length >> 8, entry.length & 0xff]), entry);
  }
  return concatBytes(...parts);
}

/** Reads a bundle of exactly `width` entries, refusing a short read or bytes left over. */
export function parseBundle(bytes: Uint8Array, width: number, name = 'the bundle'): Uint8Array[] {
  checkWidth(width);
  const entries: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (entries.length === width) {
      throw new LogError(
        'malformed-bundle',
        `${name} holds more than its ${width} entries (${bytes.length - offset} bytes left over)`,
      );
    }
    if (offset + 2 > bytes.length)
      throw new LogError('malformed-bundle', `${name} ends inside the length of entry ${entries.length}`);
    const length = ((bytes[offset] as number) << 8) | (bytes[offset + 1] as number);
    if (offset + 2 + length > bytes.length) {
      throw new LogError('malformed-bundle', `${name} ends inside entry ${entries.length} (${length} bytes long)`);
    }
    entries.push(bytes.slice(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  if (entries.length !== width) {
    throw new LogError('malformed-bundle', `${name} holds ${entries.length} entries, expected ${width}`);
  }
  return entries;
}

/** Throws a tile-mismatch naming the tile unless `bytes` is exactly its width in hashes. */
export function checkTileLength(bytes: Uint8Array, tile: TileId): void {
  if (bytes.length !== tile.width * HASH_BYTES) {
    throw new LogError(
      'tile-mismatch',
      `${tilePath(tile)} is ${bytes.length} bytes, expected ${tile.width * HASH_BYTES} (${tile.width} hashes)`,
    );
  }
}
