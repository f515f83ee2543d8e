import { bytesEqual } from '../crypto/bytes.js';
import { encodeBase64 } from '../crypto/base64.js';
import { LogError } from './errors.js';
import { EMPTY_ROOT, HASH_BYTES, foldSubtrees, leafHash, subtreeOfHashes, subtreesOf } from './merkle.js';
import {
  TILE_HEIGHT,
  TILE_WIDTH,
  bundlePath,
  checkTileLength,
  edgeTiles,
  hashesAtLevel,
  parseBundle,
  tilePath,
  type TileId,
} from './tiles.js';

/** Fetches one path under the log's prefix (`tile/0/000.p/5`), resolving to its bytes. */
export type FetchTile = (path: string) => Promise<Uint8Array>;

/**
 * The client side of tlog-tiles: reads a log of the size and root a verified checkpoint gives,
 * trusting no tile until the root vouches for it.
 *
 * - The partial tile of each level (edgeTiles) is authenticated by hashing them all into the
 *   root; when they do not give it, the error names them.
 * - A full tile is authenticated by its root: the hash at its place in the tile above, which is
 *   authenticated the same way, up to the partial tiles. A mismatch names the tile.
 * - A bundle's entries must each hash to the leaf hash at its place in the level-0 tile.
 *
 * Fetches are as few as this allows: a tile is fetched only when it holds a hash asked for or
 * authenticates one that does; each path at most once per reader; and all that a call needs
 * are started together, so a call waits for one round of parallel requests. On a fresh reader,
 * `leafHashes(a, b)` fetches the level-0 tiles over [a, b), the full tiles above them, and the
 * edge tiles (one per non-zero base-256 digit of the size: one for a log below 256 leaves, at most two
 * below 65,536); `rootAt(m)` after reading [m, size) fetches nothing more.
 */
export class TileReader {
  readonly size: number;
  readonly root: Uint8Array;
  readonly #fetchTile: FetchTile;
  readonly #fetched = new Map<string, Promise<Uint8Array>>();
  readonly #tiles = new Map<string, Promise<Uint8Array>>();
  #edges: Promise<Map<number, Uint8Array>> | undefined;

  constructor(tree: { readonly size: number; readonly root: Uint8Array }, fetchTile: FetchTile) {
    if (!Number.isSafeInteger(tree.size) || tree.size < 0) throw new RangeError(`bad tree size ${tree.size}`);
    if (tree.root.length !== HASH_BYTES) throw new RangeError(`a root is ${HASH_BYTES} bytes, got ${tree.root.length}`);
    this.size = tree.size;
    this.root = tree.root.slice();
    this.#fetchTile = fetchTile;
  }

  /** How many paths this reader has fetched: each at most once. */
  get fetches(): number {
    return this.#fetched.size;
  }

  /** The leaf hashes of leaves [start, end), each authenticated by the root. */
  async leafHashes(start: number, end: number): Promise<Uint8Array[]> {
    this.#checkRange(start, end);
    if (start === end) return [];
    const first = Math.floor(start / TILE_WIDTH);
    const last = Math.floor((end - 1) / TILE_WIDTH);
    const tiles = await Promise.all(range(first, last + 1).map((i) => this.#authentic(this.#tile(0, i))));
    const out: Uint8Array[] = [];
    for (let leaf = start; leaf < end; leaf++) {
      const bytes = tiles[Math.floor(leaf / TILE_WIDTH) - first] as Uint8Array;
      out.push(hashAt(bytes, leaf % TILE_WIDTH));
    }
    return out;
  }

  /** The data of leaves [start, end), from entry bundles, each checked against its authenticated leaf hash. */
  async entries(start: number, end: number): Promise<Uint8Array[]> {
    this.#checkRange(start, end);
    if (start === end) return [];
    const first = Math.floor(start / TILE_WIDTH);
    const last = Math.floor((end - 1) / TILE_WIDTH);
    const bundles = await Promise.all(range(first, last + 1).map((i) => this.#bundle(i)));
    const out: Uint8Array[] = [];
    for (let leaf = start; leaf < end; leaf++) {
      out.push((bundles[Math.floor(leaf / TILE_WIDTH) - first] as Uint8Array[])[leaf % TILE_WIDTH] as Uint8Array);
    }
    return out;
  }

  /**
   * MTH(D[0:size]) for an older size, from the same authenticated tiles. A client keeps the
   * size and root of the last checkpoint it verified; this must give that root again, or the
   * log has shown it another history.
   */
  async rootAt(size: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new RangeError(`size ${size} is not between 0 and the tree's size, ${this.size}`);
    }
    if (size === 0) return EMPTY_ROOT.slice();
    if (size === this.size) {
      await this.#edgeTiles();
      return this.root.slice();
    }
    return foldSubtrees(await Promise.all(subtreesOf(size).map(({ level, index }) => this.hash(level, index))));
  }

  /** The authenticated root of the complete subtree (level, index) of the tree. */
  async hash(level: number, index: number): Promise<Uint8Array> {
    if (!Number.isInteger(level) || level < 0 || level > 63 || !Number.isSafeInteger(index) || index < 0) {
      throw new RangeError(`(${level}, ${index}) does not name a node`);
    }
    const span = 2 ** (level % TILE_HEIGHT);
    const position = index * span;
    const tile = this.#tile(Math.floor(level / TILE_HEIGHT), Math.floor(position / TILE_WIDTH));
    if ((position % TILE_WIDTH) + span > tile.width) {
      throw new RangeError(`node (${level}, ${index}) is not a complete subtree of a tree of size ${this.size}`);
    }
    return subtreeOfHashes(await this.#authentic(tile), position % TILE_WIDTH, span);
  }

  /** Tile (level, index) as the tree of this size has it: full, or the partial tile at the edge. */
  #tile(level: number, index: number): TileId {
    const count = hashesAtLevel(this.size, level);
    const width = Math.min(TILE_WIDTH, count - index * TILE_WIDTH);
    if (!Number.isSafeInteger(index) || index < 0 || width < 1) {
      throw new RangeError(`tile (${level}, ${index}) is not in a tree of size ${this.size}`);
    }
    return { level, index, width };
  }

  #authentic(tile: TileId): Promise<Uint8Array> {
    if (tile.width < TILE_WIDTH) return this.#edgeTiles().then((edges) => edges.get(tile.level) as Uint8Array);
    const path = tilePath(tile);
    let promise = this.#tiles.get(path);
    if (!promise) {
      promise = this.#authenticFull(tile, path);
      this.#tiles.set(path, promise);
    }
    return promise;
  }

  async #authenticFull(tile: TileId, path: string): Promise<Uint8Array> {
    const above = this.#tile(tile.level + 1, Math.floor(tile.index / TILE_WIDTH));
    const [bytes, parent] = await Promise.all([this.#fetchChecked(tile, path), this.#authentic(above)]);
    const expected = hashAt(parent, tile.index % TILE_WIDTH);
    if (!bytesEqual(subtreeOfHashes(bytes, 0, TILE_WIDTH), expected)) {
      throw new LogError(
        'tile-mismatch',
        `${path} does not hash to ${encodeBase64(expected)}, its entry ${tile.index % TILE_WIDTH} in ${tilePath(above)}`,
      );
    }
    return bytes;
  }

  /** The partial tile of every level, fetched together and checked against the root together. */
  #edgeTiles(): Promise<Map<number, Uint8Array>> {
    this.#edges ??= (async () => {
      const tiles = edgeTiles(this.size);
      const fetched = await Promise.all(tiles.map((t) => this.#fetchChecked(t, tilePath(t))));
      const byLevel = new Map(tiles.map((t, i) => [t.level, fetched[i] as Uint8Array]));
      const roots = subtreesOf(this.size).map(({ level, index }) => {
        const span = 2 ** (level % TILE_HEIGHT);
        const bytes = byLevel.get(Math.floor(level / TILE_HEIGHT)) as Uint8Array;
        return subtreeOfHashes(bytes, (index * span) % TILE_WIDTH, span);
      });
      if (!bytesEqual(foldSubtrees(roots), this.root)) {
        const named = tiles.length === 0 ? 'an empty tree' : tiles.map(tilePath).join(', ');
        throw new LogError(
          tiles.length === 0 ? 'inconsistent' : 'tile-mismatch',
          `${named} ${tiles.length === 1 ? 'does' : 'do'} not hash to the checkpoint's root ${encodeBase64(this.root)}`,
        );
      }
      return byLevel;
    })();
    return this.#edges;
  }

  async #bundle(index: number): Promise<Uint8Array[]> {
    const tile = this.#tile(0, index);
    const path = bundlePath({ index, width: tile.width });
    const [bytes, hashes] = await Promise.all([this.#fetch(path), this.#authentic(tile)]);
    const entries = parseBundle(bytes, tile.width, path);
    entries.forEach((entry, i) => {
      if (!bytesEqual(leafHash(entry), hashAt(hashes, i))) {
        throw new LogError(
          'tile-mismatch',
          `entry ${i} of ${path} (leaf ${index * TILE_WIDTH + i}) does not hash to its leaf hash in ${tilePath(tile)}`,
        );
      }
    });
    return entries;
  }

  async #fetchChecked(tile: TileId, path: string): Promise<Uint8Array> {
    const bytes = await this.#fetch(path);
    checkTileLength(bytes, tile);
    return bytes;
  }

  #fetch(path: string): Promise<Uint8Array> {
    let promise = this.#fetched.get(path);
    if (!promise) {
      promise = this.#fetchTile(path);
      this.#fetched.set(path, promise);
    }
    return promise;
  }

  #checkRange(start: number, end: number): void {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end > this.size) {
      throw new RangeError(`leaves [${start}, ${end}) are not within a tree of size ${this.size}`);
    }
  }
}

const hashAt = (bytes: Uint8Array, i: number): Uint8Array => bytes.slice(i * HASH_BYTES, (i + 1) * HASH_BYTES);

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
