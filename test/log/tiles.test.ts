import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../scripts/bench/prng.js';
import { LogError } from '../../src/log/errors.js';
import { MerkleTree, leafHash, subtreeOfHashes } from '../../src/log/merkle.js';
import {
  bundlePath,
  edgeTiles,
  formatBundle,
  newTiles,
  parseBundle,
  parseTilePath,
  tileBytes,
  tilePath,
  type TileId,
} from '../../src/log/tiles.js';
import { LEAVES, hex, toHex } from './vectors.js';

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (error) {
    return error instanceof LogError ? error.code : `not a LogError: ${String(error)}`;
  }
  return undefined;
};

describe('tile paths', () => {
  it.each([
    [{ level: 0, index: 0, width: 256 }, 'tile/0/000'],
    [{ level: 0, index: 5, width: 3 }, 'tile/0/005.p/3'],
    // The example of c2sp.org/tlog-tiles: index 1234067 is x001/x234/067.
    [{ level: 1, index: 1234067, width: 256 }, 'tile/1/x001/x234/067'],
    [{ level: 2, index: 1000, width: 255 }, 'tile/2/x001/000.p/255'],
    [{ level: 63, index: 999, width: 1 }, 'tile/63/999.p/1'],
  ] as const)('writes %o as %s and reads it back', (tile, path) => {
    expect(tilePath(tile)).toBe(path);
    expect(parseTilePath(path)).toEqual({ kind: 'tile', tile });
  });

  it('writes and reads entry bundles under tile/entries', () => {
    expect(bundlePath({ index: 0, width: 256 })).toBe('tile/entries/000');
    expect(bundlePath({ index: 1234067, width: 1 })).toBe('tile/entries/x001/x234/067.p/1');
    expect(parseTilePath('tile/entries/x001/x234/067.p/1')).toEqual({
      kind: 'entries',
      bundle: { index: 1234067, width: 1 },
    });
  });

  it('round-trips random tiles and bundles', () => {
    const random = mulberry32(5);
    for (let i = 0; i < 500; i++) {
      const tile = {
        level: Math.floor(random() * 64),
        index: Math.floor(random() * 10 ** Math.floor(random() * 16)),
        width: random() < 0.5 ? 256 : 1 + Math.floor(random() * 255),
      };
      expect(parseTilePath(tilePath(tile))).toEqual({ kind: 'tile', tile });
      const bundle = { index: tile.index, width: tile.width };
      expect(parseTilePath(bundlePath(bundle))).toEqual({ kind: 'entries', bundle });
    }
  });

  it.each([
    ['tile/0/0', 'an index group of one digit'],
    ['tile/0/0000', 'an index group of four digits'],
    ['tile/0/x000/001', 'a leading x000 group'],
    ['tile/0/x001', 'a last group with an x'],
    ['tile/0/001/002', 'a first group without an x'],
    ['tile/0/X001/002', 'an upper-case X'],
    ['tile/00/000', 'a level with a leading zero'],
    ['tile/64/000', 'level 64'],
    ['tile/-1/000', 'a negative level'],
    ['tile/+1/000', 'a level with a sign'],
    ['tile/0/000.p/0', 'width 0'],
    ['tile/0/000.p/256', 'a partial width of 256'],
    ['tile/0/000.p/007', 'a width with leading zeros'],
    ['tile/0/000.p', 'a partial mark without a width'],
    ['tile/0/000.p/', 'an empty width'],
    ['tile/0/x001.p/3', 'a partial mark on an x group'],
    ['tile/entries/000.p/256', 'a bundle with a partial width of 256'],
    ['tile/0/000/', 'a trailing slash'],
    ['/tile/0/000', 'a leading slash'],
    ['tile/0', 'no index'],
    ['tile//000', 'an empty level'],
    ['tiles/0/000', 'another first segment'],
    ['tile/0/x001/x002/x003/x004/x005/x006/007', 'seven index groups'],
    ['tile/0/x009/x007/x199/x254/x740/993', 'an index past 2^53'],
  ])('refuses %s (%s)', (path) => {
    expect(code(() => parseTilePath(path))).toBe('malformed-tile-path');
  });

  it('refuses to write a tile that has no path', () => {
    expect(() => tilePath({ level: 64, index: 0, width: 256 })).toThrow(RangeError);
    expect(() => tilePath({ level: 0, index: -1, width: 256 })).toThrow(RangeError);
    expect(() => tilePath({ level: 0, index: 0, width: 0 })).toThrow(RangeError);
    expect(() => bundlePath({ index: 0.5, width: 1 })).toThrow(RangeError);
    expect(() => bundlePath({ index: 0, width: 257 })).toThrow(RangeError);
  });
});

describe('which tiles a log serves', () => {
  const paths = (tiles: readonly TileId[]): string[] => tiles.map(tilePath);

  it('serves a tree of 70,000 as tlog-tiles describes: 273 full and one partial at level 0, one full and one partial at level 1, one at level 2', () => {
    const { tiles, bundles } = newTiles(0, 70_000);
    const at = (level: number): TileId[] => tiles.filter((t) => t.level === level);
    expect(at(0).filter((t) => t.width === 256)).toHaveLength(273);
    expect(at(0).filter((t) => t.width < 256)).toEqual([{ level: 0, index: 273, width: 112 }]);
    expect(at(1)).toEqual([
      { level: 1, index: 0, width: 256 },
      { level: 1, index: 1, width: 17 },
    ]);
    expect(at(2)).toEqual([{ level: 2, index: 0, width: 1 }]);
    expect(tiles).toHaveLength(277);
    expect(bundles).toEqual(at(0).map(({ index, width }) => ({ index, width })));
    expect(paths(edgeTiles(70_000))).toEqual(['tile/0/273.p/112', 'tile/1/001.p/17', 'tile/2/000.p/1']);
  });

  it('serves a tree of 256 as one full level-0 tile and a level-1 tile of width 1', () => {
    expect(paths(newTiles(0, 256).tiles)).toEqual(['tile/0/000', 'tile/1/000.p/1']);
    expect(paths(edgeTiles(256))).toEqual(['tile/1/000.p/1']);
    expect(newTiles(0, 0)).toEqual({ tiles: [], bundles: [] });
    expect(edgeTiles(0)).toEqual([]);
  });

  it('names, as a log grows, exactly the tiles the new size has and the old did not', () => {
    const random = mulberry32(9);
    const all = (size: number): Set<string> => new Set(paths(newTiles(0, size).tiles));
    for (let i = 0; i < 300; i++) {
      const size = Math.floor(random() * 200_000);
      const old = random() < 0.3 ? size : Math.floor(random() * (size + 1));
      const before = all(old);
      const expected = [...all(size)].filter((p) => !before.has(p));
      expect(paths(newTiles(old, size).tiles), `${old} to ${size}`).toEqual(expected);
    }
    expect(() => newTiles(5, 4)).toThrow(RangeError);
  });
});

describe('tile bytes', () => {
  const tree = MerkleTree.fromLeafHashes(LEAVES.map((l) => leafHash(hex(l))));

  it('concatenates the level-0 hashes of a level-0 tile', () => {
    const bytes = tileBytes(tree, { level: 0, index: 0, width: 8 });
    expect(bytes).toHaveLength(8 * 32);
    expect(toHex(bytes)).toBe(LEAVES.map((l) => toHex(leafHash(hex(l)))).join(''));
    expect(toHex(tileBytes(tree, { level: 0, index: 0, width: 3 }))).toBe(toHex(bytes.subarray(0, 96)));
    expect(() => tileBytes(tree, { level: 0, index: 0, width: 9 })).toThrow(RangeError);
  });

  it('puts the root of each full tile at its place in the tile above', () => {
    const big = MerkleTree.fromLeafHashes(
      Array.from({ length: 256 * 3 + 7 }, (_, i) => leafHash(new Uint8Array([i, i >> 8]))),
    );
    const above = tileBytes(big, { level: 1, index: 0, width: 3 });
    for (let i = 0; i < 3; i++) {
      const full = tileBytes(big, { level: 0, index: i, width: 256 });
      expect(toHex(subtreeOfHashes(full, 0, 256))).toBe(toHex(above.subarray(i * 32, (i + 1) * 32)));
      expect(toHex(big.node(8, i))).toBe(toHex(above.subarray(i * 32, (i + 1) * 32)));
    }
  });
});

describe('entry bundles', () => {
  it('frames each entry with a big-endian uint16 length', () => {
    const bundle = formatBundle([hex(''), hex('00'), new Uint8Array(300).fill(7)]);
    expect(toHex(bundle.subarray(0, 5))).toBe('0000000100');
    expect(toHex(bundle.subarray(5, 7))).toBe('012c');
    expect(bundle).toHaveLength(2 + 3 + 2 + 300);
    expect(parseBundle(bundle, 3).map((e) => e.length)).toEqual([0, 1, 300]);
  });

  it('round-trips the largest entry a bundle can hold and refuses a larger one', () => {
    const largest = new Uint8Array(0xffff).fill(1);
    expect(parseBundle(formatBundle([largest]), 1)[0]).toEqual(largest);
    expect(() => formatBundle([new Uint8Array(0x10000)])).toThrow(/at most 65535/);
    expect(() => formatBundle([])).toThrow(RangeError);
    expect(() => formatBundle(Array.from({ length: 257 }, () => new Uint8Array(0)))).toThrow(RangeError);
  });

  it.each([
    ['fewer entries than its width', formatBundle([hex('01')]), 2, /holds 1 entries, expected 2/],
    ['more entries than its width', formatBundle([hex('01'), hex('02')]), 1, /more than its 1 entries/],
    ['a length cut in half', hex('000101' + '00'), 2, /ends inside the length of entry 1/],
    ['an entry cut short', hex('000301'), 1, /ends inside entry 0 \(3 bytes long\)/],
    ['nothing at all', new Uint8Array(0), 1, /holds 0 entries, expected 1/],
  ])('refuses a bundle with %s', (_, bytes, width, message) => {
    expect(code(() => parseBundle(bytes, width))).toBe('malformed-bundle');
    expect(() => parseBundle(bytes, width)).toThrow(message);
  });
});
