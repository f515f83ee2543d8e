import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../scripts/bench/prng.js';
import { LogError } from '../../src/log/errors.js';
import { EMPTY_ROOT, MerkleTree, leafHash } from '../../src/log/merkle.js';
import { TileReader } from '../../src/log/tile-reader.js';
import { bundlePath, formatBundle, newTiles, tileBytes, tilePath } from '../../src/log/tiles.js';
import { generatedLeaf, toHex } from './vectors.js';

/** A log as a static server holds it: every tile and bundle of every size it grew through. */
class Server {
  readonly files = new Map<string, Uint8Array>();
  readonly requests: string[] = [];
  readonly tree = new MerkleTree();
  readonly data: Uint8Array[] = [];

  constructor(size: number, steps = 1) {
    for (let step = 1; step <= steps; step++) this.grow(Math.round((size * step) / steps));
  }

  grow(size: number): void {
    const old = this.tree.size;
    while (this.tree.size < size) {
      const entry = generatedLeaf(this.tree.size);
      this.data.push(entry);
      this.tree.append(leafHash(entry));
    }
    const { tiles, bundles } = newTiles(old, size);
    for (const t of tiles) this.files.set(tilePath(t), tileBytes(this.tree, t));
    for (const b of bundles) {
      this.files.set(bundlePath(b), formatBundle(this.data.slice(b.index * 256, b.index * 256 + b.width)));
    }
  }

  reader(size = this.tree.size, root = this.tree.root(size)): TileReader {
    return new TileReader({ size, root }, (path) => {
      this.requests.push(path);
      const bytes = this.files.get(path);
      return bytes ? Promise.resolve(bytes.slice()) : Promise.reject(new Error(`404 ${path}`));
    });
  }

  /** Changes one byte of a served file. */
  tamper(path: string, at = 0): void {
    const bytes = this.files.get(path);
    if (!bytes) throw new Error(`no ${path}`);
    bytes[at]! ^= 0x01;
  }
}

async function failure(promise: Promise<unknown>): Promise<LogError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof LogError)) throw new Error(`expected a LogError, got ${String(error)}`);
  return error;
}

describe('reading an honest log', () => {
  it.each([1, 2, 7, 255, 256, 257, 511, 512, 1000, 65_536, 70_000])(
    'returns the leaf hashes, entries and older roots of a log of %i',
    async (size) => {
      const server = new Server(size, 3);
      const random = mulberry32(size);
      const reader = server.reader();
      for (let i = 0; i < 8; i++) {
        const end = 1 + Math.floor(random() * size);
        const start = Math.max(0, end - 1 - Math.floor(random() * 600));
        const hashes = await reader.leafHashes(start, end);
        expect(hashes.map(toHex)).toEqual(server.data.slice(start, end).map((d) => toHex(leafHash(d))));
        expect((await reader.entries(start, end)).map(toHex)).toEqual(server.data.slice(start, end).map(toHex));
        const old = Math.floor(random() * (size + 1));
        expect(toHex(await reader.rootAt(old)), `root at ${old}`).toBe(toHex(server.tree.root(old)));
      }
      expect(toHex(await reader.rootAt(size))).toBe(toHex(server.tree.root()));
      expect(toHex(await reader.rootAt(0))).toBe(toHex(EMPTY_ROOT));
      expect(new Set(server.requests).size).toBe(server.requests.length);
    },
  );

  it('reads an empty log without fetching anything', async () => {
    const server = new Server(0);
    const reader = server.reader();
    expect(await reader.leafHashes(0, 0)).toEqual([]);
    expect(toHex(await reader.rootAt(0))).toBe(toHex(EMPTY_ROOT));
    expect(reader.fetches).toBe(0);
  });

  it('refuses ranges and sizes beyond the checkpoint', async () => {
    const reader = new Server(10).reader();
    await expect(reader.leafHashes(0, 11)).rejects.toThrow(RangeError);
    await expect(reader.entries(5, 4)).rejects.toThrow(RangeError);
    await expect(reader.rootAt(11)).rejects.toThrow(/size 11 is not between 0 and the tree's size, 10/);
    await expect(reader.hash(4, 0)).rejects.toThrow(/not a complete subtree/);
    await expect(reader.hash(-1, 0)).rejects.toThrow(/does not name a node/);
    await expect(reader.hash(0.5, 0)).rejects.toThrow(/does not name a node/);
  });
});

describe('how many tiles a reader fetches', () => {
  it('fetches one tile for a log below 256 leaves, whatever it reads', async () => {
    const server = new Server(200);
    const reader = server.reader();
    await reader.leafHashes(0, 200);
    await reader.rootAt(17);
    expect(server.requests).toEqual(['tile/0/000.p/200']);
  });

  it('fetches the level-0 tiles of a range and the edge tiles, then nothing for the root at its start', async () => {
    const server = new Server(1000);
    const reader = server.reader();
    await reader.leafHashes(300, 1000);
    expect(server.requests.sort()).toEqual(['tile/0/001', 'tile/0/002', 'tile/0/003.p/232', 'tile/1/000.p/3']);
    await reader.rootAt(300);
    expect(reader.fetches).toBe(4);
  });

  it('fetches for an older root only the tiles that hold its subtrees, beside the edge', async () => {
    const server = new Server(1000);
    const reader = server.reader();
    // 600 = 512 + 64 + 16 + 8: the 512 is in tile/1/000.p/3, the rest in tile/0/002.
    await reader.rootAt(600);
    expect(server.requests.sort()).toEqual(['tile/0/002', 'tile/0/003.p/232', 'tile/1/000.p/3']);
  });

  it('fetches each path once when calls overlap', async () => {
    const server = new Server(70_000);
    const reader = server.reader();
    await Promise.all([
      reader.leafHashes(0, 600),
      reader.leafHashes(500, 900),
      reader.entries(0, 10),
      reader.rootAt(513),
    ]);
    expect(new Set(server.requests).size).toBe(server.requests.length);
    expect(reader.fetches).toBe(server.requests.length);
    // Level 0: tiles 0 to 3 and bundle 0; level 1: the full tile 0; the three edge tiles.
    expect(server.requests).toHaveLength(4 + 1 + 1 + 3);
  });
});

describe('a log that lies', () => {
  it('names a full level-0 tile with one byte changed', async () => {
    const server = new Server(1000);
    server.tamper('tile/0/001', 100);
    const error = await failure(server.reader().leafHashes(256, 300));
    expect(error.code).toBe('tile-mismatch');
    expect(error.message).toMatch(/^tile\/0\/001 does not hash to .*, its entry 1 in tile\/1\/000\.p\/3$/);
  });

  it('names a full level-1 tile with one byte changed', async () => {
    const server = new Server(70_000);
    server.tamper('tile/1/000', 8000);
    const error = await failure(server.reader().leafHashes(0, 1));
    expect(error.code).toBe('tile-mismatch');
    expect(error.message).toMatch(/^tile\/1\/000 does not hash to .*, its entry 0 in tile\/2\/000\.p\/1$/);
  });

  it('names the edge tiles when one of them has a byte changed', async () => {
    const server = new Server(70_000);
    server.tamper('tile/0/273.p/112', 31);
    const error = await failure(server.reader().rootAt(70_000));
    expect(error.code).toBe('tile-mismatch');
    expect(error.message).toContain(
      "tile/0/273.p/112, tile/1/001.p/17, tile/2/000.p/1 do not hash to the checkpoint's root",
    );
  });

  it('refuses every tile when the checkpoint has another root', async () => {
    const server = new Server(300);
    const error = await failure(server.reader(300, server.tree.root(299)).leafHashes(0, 1));
    expect(error.code).toBe('tile-mismatch');
  });

  it.each([
    ['one hash short', (b: Uint8Array) => b.subarray(32), /tile\/0\/000 is 8160 bytes, expected 8192 \(256 hashes\)/],
    ['one hash more', (b: Uint8Array) => new Uint8Array([...b, ...b.subarray(0, 32)]), /is 8224 bytes, expected 8192/],
    ['a byte short', (b: Uint8Array) => b.subarray(1), /is 8191 bytes/],
  ])('refuses a tile of the wrong width: %s', async (_, change, message) => {
    const server = new Server(1000);
    server.files.set('tile/0/000', change(server.files.get('tile/0/000')!));
    const error = await failure(server.reader().leafHashes(0, 5));
    expect(error.code).toBe('tile-mismatch');
    expect(error.message).toMatch(message);
  });

  it('refuses a partial tile served wider than the checkpoint says, as a full tile would be', async () => {
    const server = new Server(300, 1);
    const full = new Server(512);
    server.files.set('tile/0/001.p/44', tileBytes(full.tree, { level: 0, index: 1, width: 256 }));
    const error = await failure(server.reader().leafHashes(299, 300));
    expect(error.message).toMatch(/tile\/0\/001\.p\/44 is 8192 bytes, expected 1408 \(44 hashes\)/);
  });

  it('names an entry bundle whose entry was changed', async () => {
    const server = new Server(600);
    server.tamper('tile/entries/001', 3);
    const reader = server.reader();
    const error = await failure(reader.entries(300, 301));
    expect(error.code).toBe('tile-mismatch');
    expect(error.message).toMatch(
      /^entry 0 of tile\/entries\/001 \(leaf 256\) does not hash to its leaf hash in tile\/0\/001$/,
    );
    expect((await reader.entries(0, 3)).map(toHex)).toEqual(server.data.slice(0, 3).map(toHex));
  });

  it('refuses a bundle that is cut short', async () => {
    const server = new Server(600);
    const bytes = server.files.get('tile/entries/002.p/88')!;
    server.files.set('tile/entries/002.p/88', bytes.subarray(0, bytes.length - 1));
    const error = await failure(server.reader().entries(599, 600));
    expect(error.code).toBe('malformed-bundle');
    expect(error.message).toContain('tile/entries/002.p/88');
  });

  it('passes on a tile the server cannot give, without a verdict on the log', async () => {
    const server = new Server(600);
    server.files.delete('tile/0/000');
    await expect(server.reader().leafHashes(0, 1)).rejects.toThrow('404 tile/0/000');
  });
});
