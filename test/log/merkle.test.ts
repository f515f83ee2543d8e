import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../scripts/bench/prng.js';
import {
  EMPTY_ROOT,
  MerkleTree,
  leafHash,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/log/merkle.js';
import {
  CONSISTENCY_PROOFS,
  EMPTY_ROOT_HEX,
  INCLUSION_PROOFS,
  LEAVES,
  NODES,
  ROOTS,
  generatedLeaf,
  hex,
  toHex,
} from './vectors.js';

/**
 * RFC 6962 / RFC 9162 written out a second time, straight from the recursive definitions and
 * with node:crypto's SHA-256, so the tree's stored-node shortcuts are checked against the text.
 * `d` holds leaf hashes (MTH of one leaf), as the tree does.
 */
const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const k = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);
const mth = (d: readonly Uint8Array[]): Uint8Array =>
  d.length === 0
    ? sha()
    : d.length === 1
      ? d[0]!
      : sha(new Uint8Array([1]), mth(d.slice(0, k(d.length))), mth(d.slice(k(d.length))));
const refPath = (m: number, d: readonly Uint8Array[]): Uint8Array[] => {
  if (d.length === 1) return [];
  const s = k(d.length);
  return m < s ? [...refPath(m, d.slice(0, s)), mth(d.slice(s))] : [...refPath(m - s, d.slice(s)), mth(d.slice(0, s))];
};
const refSubproof = (m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] => {
  if (m === d.length) return b ? [] : [mth(d)];
  const s = k(d.length);
  return m <= s
    ? [...refSubproof(m, d.slice(0, s), b), mth(d.slice(s))]
    : [...refSubproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
};

const vectorTree = (): MerkleTree => MerkleTree.fromLeafHashes(LEAVES.map((l) => leafHash(hex(l))));
const flipped = (proof: readonly Uint8Array[], i: number, byte = 0): Uint8Array[] =>
  proof.map((p, j) => (j === i ? p.map((b, x) => (x === byte ? b ^ 0x01 : b)) : p));

describe('RFC 6962 hashing', () => {
  it('hashes a leaf as SHA-256(0x00 || data) and a node as SHA-256(0x01 || left || right)', () => {
    expect(toHex(leafHash(hex('2021')))).toBe(toHex(sha(hex('002021'))));
    expect(toHex(nodeHash(hex(NODES[0]![0]!), hex(NODES[0]![1]!)))).toBe(NODES[1]![0]);
    expect(toHex(EMPTY_ROOT)).toBe(EMPTY_ROOT_HEX);
  });

  it.each(ROOTS.map((root, i) => [i + 1, root] as const))(
    'gives the published root of the first %i leaves',
    (n, root) => {
      const tree = MerkleTree.fromLeafHashes(LEAVES.slice(0, n).map((l) => leafHash(hex(l))));
      expect(tree.size).toBe(n);
      expect(toHex(tree.root())).toBe(root);
      expect(toHex(vectorTree().root(n))).toBe(root);
    },
  );

  it('gives the empty tree SHA-256 of nothing as its root', () => {
    expect(toHex(new MerkleTree().root())).toBe(EMPTY_ROOT_HEX);
    expect(toHex(vectorTree().root(0))).toBe(EMPTY_ROOT_HEX);
  });

  it('stores every complete node as tlog names them, (level, index)', () => {
    const tree = vectorTree();
    NODES.forEach((level, l) => level.forEach((h, i) => expect(toHex(tree.node(l, i))).toBe(h)));
    expect(() => tree.node(3, 1)).toThrow(RangeError);
    expect(() => tree.node(4, 0)).toThrow(RangeError);
    expect(() => tree.node(0, 8)).toThrow(/not a complete subtree of a tree of size 8/);
  });

  it('answers copies, so a caller cannot change a stored node', () => {
    const tree = vectorTree();
    tree.node(0, 0).fill(0);
    tree.root().fill(0);
    expect(toHex(tree.node(0, 0))).toBe(NODES[0]![0]);
    expect(toHex(tree.root())).toBe(ROOTS[7]);
  });

  it('refuses a leaf hash that is not 32 bytes, and sizes beyond the tree', () => {
    const tree = vectorTree();
    expect(() => tree.append(new Uint8Array(31))).toThrow(/a leaf hash is 32 bytes, got 31/);
    expect(tree.size).toBe(8);
    expect(() => tree.root(9)).toThrow(RangeError);
    expect(() => tree.inclusionProof(8)).toThrow(/leaf 8 is not in a tree of size 8/);
    expect(() => tree.inclusionProof(0, 9)).toThrow(RangeError);
    expect(() => tree.consistencyProof(5, 4)).toThrow(/old size 5 is not between 0 and 4/);
  });
});

describe('the published proofs', () => {
  it.each(INCLUSION_PROOFS.map((v) => [v.index, v.size, v] as const))(
    'makes and accepts the inclusion proof of leaf %i in size %i',
    (_i, _n, v) => {
      const tree = vectorTree();
      const proof = tree.inclusionProof(v.index, v.size);
      expect(proof.map(toHex)).toEqual(v.proof);
      const leaf = leafHash(hex(LEAVES[v.index]!));
      expect(verifyInclusion(leaf, v.index, v.size, v.proof.map(hex), hex(ROOTS[v.size - 1]!))).toBe(true);
    },
  );

  it.each(CONSISTENCY_PROOFS)('makes and accepts the consistency proof from $oldSize to $size', (v) => {
    const tree = vectorTree();
    expect(tree.consistencyProof(v.oldSize, v.size).map(toHex)).toEqual(v.proof);
    const [oldRoot, root] = [hex(ROOTS[v.oldSize - 1]!), hex(ROOTS[v.size - 1]!)];
    expect(verifyConsistency(v.oldSize, v.size, v.proof.map(hex), oldRoot, root)).toBe(true);
  });

  it.each(INCLUSION_PROOFS.map((v) => [v.index, v.size, v] as const))(
    'refuses the inclusion proof of leaf %i in size %i once altered',
    (_i, _n, v) => {
      const leaf = leafHash(hex(LEAVES[v.index]!));
      const root = hex(ROOTS[v.size - 1]!);
      const proof = v.proof.map(hex);
      const bad: [string, boolean][] = [
        ['index - 1', verifyInclusion(leaf, v.index - 1, v.size, proof, root)],
        ['index + 1', verifyInclusion(leaf, v.index + 1, v.size, proof, root)],
        ['index ^ 2', verifyInclusion(leaf, v.index ^ 2, v.size, proof, root)],
        ['size * 2', verifyInclusion(leaf, v.index, v.size * 2, proof, root)],
        ['size / 2', verifyInclusion(leaf, v.index, Math.floor(v.size / 2), proof, root)],
        ['wrong leaf', verifyInclusion(leafHash(hex('ff')), v.index, v.size, proof, root)],
        ['empty root', verifyInclusion(leaf, v.index, v.size, proof, EMPTY_ROOT)],
        ['trailing root', verifyInclusion(leaf, v.index, v.size, [...proof, root], root)],
        ['preceding root', verifyInclusion(leaf, v.index, v.size, [root, ...proof], root)],
        ['short element', verifyInclusion(leaf, v.index, v.size, [...proof, new Uint8Array(0)], root)],
        ...proof.map((_, i): [string, boolean] => [
          `flipped ${i}`,
          verifyInclusion(leaf, v.index, v.size, flipped(proof, i), root),
        ]),
        ...(proof.length > 0
          ? [['removed last', verifyInclusion(leaf, v.index, v.size, proof.slice(0, -1), root)] as [string, boolean]]
          : []),
      ];
      expect(bad.filter(([, ok]) => ok).map(([name]) => name)).toEqual([]);
    },
  );

  it.each(CONSISTENCY_PROOFS)('refuses the consistency proof from $oldSize to $size once altered', (v) => {
    const [oldRoot, root] = [hex(ROOTS[v.oldSize - 1]!), hex(ROOTS[v.size - 1]!)];
    const proof = v.proof.map(hex);
    const bad: [string, boolean][] = [
      ['old size - 1', v.oldSize > 1 && verifyConsistency(v.oldSize - 1, v.size, proof, oldRoot, root)],
      ['old size + 1', verifyConsistency(v.oldSize + 1, v.size, proof, oldRoot, root)],
      ['size * 2', verifyConsistency(v.oldSize, v.size * 2, proof, oldRoot, root)],
      ['swapped roots', v.oldSize !== v.size && verifyConsistency(v.oldSize, v.size, proof, root, oldRoot)],
      ['wrong old root', verifyConsistency(v.oldSize, v.size, proof, EMPTY_ROOT, root)],
      ['wrong root', verifyConsistency(v.oldSize, v.size, proof, oldRoot, EMPTY_ROOT)],
      ['trailing root', verifyConsistency(v.oldSize, v.size, [...proof, root], oldRoot, root)],
      ['preceding old root', verifyConsistency(v.oldSize, v.size, [oldRoot, ...proof], oldRoot, root)],
      ...proof.map((_, i): [string, boolean] => [
        `flipped ${i}`,
        verifyConsistency(v.oldSize, v.size, flipped(proof, i, 31), oldRoot, root),
      ]),
    ];
    expect(bad.filter(([, ok]) => ok).map(([name]) => name)).toEqual([]);
  });
});

describe('proofs in every tree up to 300 leaves', () => {
  const leaves = Array.from({ length: 300 }, (_, i) => leafHash(generatedLeaf(i)));
  const tree = MerkleTree.fromLeafHashes(leaves);

  it('gives the root the recursive definition gives, for every size', () => {
    const grown = new MerkleTree();
    for (let n = 1; n <= 300; n++) {
      grown.append(leaves[n - 1]!);
      expect(toHex(grown.root()), `size ${n}`).toBe(toHex(mth(leaves.slice(0, n))));
      expect(toHex(tree.root(n))).toBe(toHex(grown.root()));
    }
  });

  it('makes the proofs RFC 9162 defines, for every leaf and every old size up to 64 leaves', () => {
    for (let n = 1; n <= 64; n++) {
      const d = leaves.slice(0, n);
      for (let m = 0; m < n; m++) expect(tree.inclusionProof(m, n).map(toHex)).toEqual(refPath(m, d).map(toHex));
      for (let m = 1; m < n; m++) {
        expect(tree.consistencyProof(m, n).map(toHex)).toEqual(refSubproof(m, d, true).map(toHex));
      }
    }
  });

  // A root does not commit to its size (the checkpoint does), so a proof verifies for another
  // size whose path to the leaf has the same shape; a size whose path is longer or shorter fails.
  const shapeDiffers = (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean => a.length !== b.length;
  /** Both ends, the middle and six seeded picks of 0..last: every size is covered, not every pair. */
  const sample = (last: number, random: () => number): number[] => [
    ...new Set([0, last, Math.floor(last / 2), ...Array.from({ length: 6 }, () => Math.floor(random() * (last + 1)))]),
  ];

  it('accepts its inclusion proofs at every size, and none with a byte flipped, another index or a size of another shape', () => {
    const random = mulberry32(7);
    const wrong: string[] = [];
    for (let n = 1; n <= 300; n++) {
      const root = tree.root(n);
      for (const m of sample(n - 1, random)) {
        const proof = tree.inclusionProof(m, n);
        const leaf = leaves[m]!;
        if (!verifyInclusion(leaf, m, n, proof, root)) wrong.push(`leaf ${m} of ${n} refused`);
        if (proof.length > 0) {
          const bad = flipped(proof, Math.floor(random() * proof.length), Math.floor(random() * 32));
          if (verifyInclusion(leaf, m, n, bad, root)) wrong.push(`leaf ${m} of ${n} with a byte flipped accepted`);
        }
        const other = (m + 1 + Math.floor(random() * (n - 1))) % n;
        if (other !== m && verifyInclusion(leaf, other, n, proof, root)) wrong.push(`leaf ${m} of ${n} as ${other}`);
        for (const size of [n - 1, n + 1, 2 * n]) {
          if (size <= m || size > 300 || !shapeDiffers(proof, tree.inclusionProof(m, size))) continue;
          if (verifyInclusion(leaf, m, size, proof, root)) wrong.push(`leaf ${m} of ${n} as of size ${size}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('accepts its consistency proofs at every size, and none with a byte flipped or sizes of another shape', () => {
    const random = mulberry32(11);
    const wrong: string[] = [];
    for (let n = 1; n <= 300; n++) {
      const root = tree.root(n);
      for (const m of sample(n, random)) {
        const proof = tree.consistencyProof(m, n);
        const oldRoot = tree.root(m);
        if (!verifyConsistency(m, n, proof, oldRoot, root)) wrong.push(`${m} to ${n} refused`);
        if (proof.length > 0) {
          const bad = flipped(proof, Math.floor(random() * proof.length), Math.floor(random() * 32));
          if (verifyConsistency(m, n, bad, oldRoot, root)) wrong.push(`${m} to ${n} with a byte flipped accepted`);
        }
        for (const [from, to] of [
          [m, n + 1],
          [m, n - 1],
          [m - 1, n],
          [m + 1, n],
        ] as const) {
          if (from < 1 || from >= to || to > 300 || !shapeDiffers(proof, tree.consistencyProof(from, to))) continue;
          if (verifyConsistency(from, to, proof, oldRoot, root)) wrong.push(`${m} to ${n} as ${from} to ${to}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('proofs in large trees', () => {
  const random = mulberry32(2026);
  const size = 70_000 + Math.floor(random() * 5_000);
  const leaves = Array.from({ length: size }, (_, i) => leafHash(generatedLeaf(i, 3)));
  const tree = MerkleTree.fromLeafHashes(leaves);

  it('verifies random inclusion and consistency proofs among random prefixes', () => {
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(random() * size);
      const m = Math.floor(random() * n);
      const root = tree.root(n);
      expect(verifyInclusion(leaves[m]!, m, n, tree.inclusionProof(m, n), root), `leaf ${m} of ${n}`).toBe(true);
      expect(verifyInclusion(leaves[m]!, m, n, tree.inclusionProof(m, n), tree.root(n - 1))).toBe(false);
      const proof = tree.consistencyProof(m, n);
      expect(verifyConsistency(m, n, proof, tree.root(m), root), `${m} to ${n}`).toBe(true);
      if (proof.length > 0)
        expect(verifyConsistency(m, n, flipped(proof, proof.length - 1), tree.root(m), root)).toBe(false);
    }
  });

  it('gives the same root whether built at once or one leaf at a time', () => {
    expect(toHex(tree.root())).toBe(toHex(mth(leaves)));
  });
});

describe('verifiers never throw', () => {
  it('answers false for sizes and indices that are not tree positions', () => {
    const root = hex(ROOTS[7]!);
    const leaf = leafHash(hex(LEAVES[0]!));
    for (const [index, size] of [
      [8, 8],
      [-1, 8],
      [0.5, 8],
      [0, Number.NaN],
      [0, 2 ** 53],
    ] as const) {
      expect(verifyInclusion(leaf, index, size, [], root)).toBe(false);
    }
    expect(verifyInclusion(leaf.subarray(1), 0, 1, [], leaf.subarray(1))).toBe(false);
    expect(verifyConsistency(5, 4, [], root, root)).toBe(false);
    expect(verifyConsistency(2, 8, [], root, root)).toBe(false);
    expect(verifyConsistency(0, 8, [], root, root)).toBe(false);
    expect(verifyConsistency(0, 8, [], EMPTY_ROOT, root)).toBe(true);
    expect(verifyConsistency(0, 8, [root], EMPTY_ROOT, root)).toBe(false);
    expect(verifyConsistency(8, 8, [root], root, root)).toBe(false);
  });
});
