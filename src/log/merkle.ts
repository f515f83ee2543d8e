import { bytesEqual, concatBytes } from '../crypto/bytes.js';
import { sha256Bytes } from '../crypto/sha256.js';

/**
 * The Merkle tree of RFC 6962 section 2.1 (RFC 9162 section 2.1), over SHA-256:
 *
 *   MTH({})        = SHA-256()
 *   MTH({d})       = SHA-256(0x00 || d)
 *   MTH(D[0:n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of 2 < n
 *
 * The 0x00 and 0x01 prefixes keep leaves and interior nodes apart, so no leaf can be passed off
 * as a node (the second-preimage attack on plain Merkle trees).
 *
 * A node is named as in tlog-tiles and Go's tlog: (level, index) is the root of the complete
 * subtree over leaves [index * 2^level, (index + 1) * 2^level). The tree stores every complete
 * node, level by level, so appending costs amortised two hashes, and any root, proof or tile is
 * a few dozen lookups. Sizes are JavaScript safe integers (below 2^53), so the arithmetic below
 * uses division, never 32-bit bitwise operators.
 */

export const HASH_BYTES = 32;

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** MTH of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Uint8Array = sha256Bytes(new Uint8Array(0));

/** The leaf hash of one entry: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256Bytes(concatBytes(LEAF_PREFIX, data));
}

/** An interior node: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256Bytes(concatBytes(NODE_PREFIX, left, right));
}

/** The largest power of two strictly below n (n >= 2): the split point k of RFC 6962. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isSize = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/**
 * The subtrees whose roots make up MTH(D[0:size]), largest (leftmost) first: one per set bit
 * of size, as (level, index). MTH(D[0:size]) folds them from the right with nodeHash.
 */
export function subtreesOf(size: number): { level: number; index: number }[] {
  const out: { level: number; index: number }[] = [];
  let start = 0;
  let width = 1;
  while (width * 2 <= size) width *= 2;
  for (let level = Math.log2(width); width >= 1; width /= 2, level--) {
    if (start + width <= size) {
      out.push({ level, index: start / width });
      start += width;
    }
  }
  return out;
}

/** Folds subtree roots (leftmost first) into the root they make: the right-to-left fold of RFC 6962, as new bytes. */
export function foldSubtrees(roots: readonly Uint8Array[]): Uint8Array {
  let acc = roots[roots.length - 1];
  if (acc === undefined) return EMPTY_ROOT.slice();
  for (let i = roots.length - 2; i >= 0; i--) acc = nodeHash(roots[i] as Uint8Array, acc);
  return roots.length === 1 ? acc.slice() : acc;
}

/** The hash of 2^k hashes laid end to end in `hashes` from `offset`: a complete subtree of height k. */
export function subtreeOfHashes(hashes: Uint8Array, offset: number, count: number): Uint8Array {
  if (count === 1) return hashes.slice(offset * HASH_BYTES, (offset + 1) * HASH_BYTES);
  const half = count / 2;
  return nodeHash(subtreeOfHashes(hashes, offset, half), subtreeOfHashes(hashes, offset + half, half));
}

/**
 * An append-only Merkle tree over leaf hashes. It keeps level h's complete nodes in one
 * growing buffer, so a tree of n leaves holds about 2n hashes (64 bytes a leaf).
 */
export class MerkleTree {
  readonly #levels: { bytes: Uint8Array; count: number }[] = [];
  #size = 0;

  static fromLeafHashes(hashes: Iterable<Uint8Array>): MerkleTree {
    const tree = new MerkleTree();
    for (const hash of hashes) tree.append(hash);
    return tree;
  }

  get size(): number {
    return this.#size;
  }

  /** Appends one leaf hash (SHA-256(0x00 || data), see leafHash) and answers its index. */
  append(hash: Uint8Array): number {
    if (hash.length !== HASH_BYTES) throw new RangeError(`a leaf hash is ${HASH_BYTES} bytes, got ${hash.length}`);
    const index = this.#size;
    this.#push(0, hash);
    // Each completed pair completes its parent: index i at level h has a sibling when i is odd.
    let i = index;
    for (let level = 0; i % 2 === 1; level++) {
      i = (i - 1) / 2;
      this.#push(level + 1, nodeHash(this.#at(level, 2 * i), this.#at(level, 2 * i + 1)));
    }
    this.#size = index + 1;
    return index;
  }

  /** The root of the complete subtree (level, index); it must lie within the tree. */
  node(level: number, index: number): Uint8Array {
    const count = this.#levels[level]?.count ?? 0;
    if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
      throw new RangeError(`node (${level}, ${index}) is not a complete subtree of a tree of size ${this.#size}`);
    }
    return this.#at(level, index).slice();
  }

  /** MTH(D[0:size]) for any size up to the tree's. */
  root(size: number = this.#size): Uint8Array {
    this.#checkSize(size, 'size');
    return foldSubtrees(subtreesOf(size).map(({ level, index }) => this.#at(level, index)));
  }

  /** PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1: the audit path, leaf side first. */
  inclusionProof(index: number, size: number = this.#size): Uint8Array[] {
    this.#checkSize(size, 'size');
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
    }
    const proof: Uint8Array[] = [];
    this.#path(index, 0, size, proof, new Map());
    return proof;
  }

  /** PROOF(oldSize, D[0:size]) of RFC 9162 section 2.1.4.1; empty when oldSize is 0 or size. */
  consistencyProof(oldSize: number, size: number = this.#size): Uint8Array[] {
    this.#checkSize(size, 'size');
    if (!isSize(oldSize) || oldSize > size) throw new RangeError(`old size ${oldSize} is not between 0 and ${size}`);
    const proof: Uint8Array[] = [];
    if (oldSize > 0) this.#subproof(oldSize, 0, size, true, proof, new Map());
    return proof;
  }

  /** PATH(m, D[lo:hi]); every range whose hash is incomplete ends at the proof's size. */
  #path(m: number, lo: number, hi: number, out: Uint8Array[], memo: Map<number, Uint8Array>): void {
    if (hi - lo === 1) return;
    const k = splitPoint(hi - lo);
    if (m < lo + k) {
      this.#path(m, lo, lo + k, out, memo);
      out.push(this.#range(lo + k, hi, memo).slice());
    } else {
      this.#path(m, lo + k, hi, out, memo);
      out.push(this.#range(lo, lo + k, memo).slice());
    }
  }

  /** SUBPROOF(m, D[lo:hi], complete), with m counted from lo. */
  #subproof(
    m: number,
    lo: number,
    hi: number,
    complete: boolean,
    out: Uint8Array[],
    memo: Map<number, Uint8Array>,
  ): void {
    if (m === hi - lo) {
      if (!complete) out.push(this.#range(lo, hi, memo).slice());
      return;
    }
    const k = splitPoint(hi - lo);
    if (m <= k) {
      this.#subproof(m, lo, lo + k, complete, out, memo);
      out.push(this.#range(lo + k, hi, memo).slice());
    } else {
      this.#subproof(m - k, lo + k, hi, false, out, memo);
      out.push(this.#range(lo, lo + k, memo).slice());
    }
  }

  /**
   * MTH(D[lo:hi]) for the ranges the proofs recurse into. lo is always a multiple of the split
   * point, so the left half is a stored complete node and only the right edge is hashed; the
   * right edges of one proof are nested suffixes of the same range, so `memo` computes each once
   * (a proof costs O(log n) hashes, not O(log² n)).
   */
  #range(lo: number, hi: number, memo: Map<number, Uint8Array>): Uint8Array {
    const n = hi - lo;
    if (n === 1) return this.#at(0, lo);
    if (isPowerOfTwo(n) && lo % n === 0) return this.#at(Math.log2(n), lo / n);
    const known = memo.get(lo);
    if (known) return known;
    const k = splitPoint(n);
    const hash = nodeHash(this.#range(lo, lo + k, memo), this.#range(lo + k, hi, memo));
    memo.set(lo, hash);
    return hash;
  }

  #checkSize(size: number, what: string): void {
    if (!isSize(size) || size > this.#size) {
      throw new RangeError(`${what} ${size} is not between 0 and the tree's size, ${this.#size}`);
    }
  }

  #at(level: number, index: number): Uint8Array {
    const stored = this.#levels[level];
    if (!stored || index >= stored.count) throw new Error(`node (${level}, ${index}) is not stored`);
    return stored.bytes.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES);
  }

  #push(level: number, hash: Uint8Array): void {
    let stored = this.#levels[level];
    if (!stored) {
      stored = { bytes: new Uint8Array(HASH_BYTES * 16), count: 0 };
      this.#levels[level] = stored;
    }
    if ((stored.count + 1) * HASH_BYTES > stored.bytes.length) {
      const grown = new Uint8Array(stored.bytes.length * 2);
      grown.set(stored.bytes);
      stored.bytes = grown;
    }
    stored.bytes.set(hash, stored.count * HASH_BYTES);
    stored.count++;
  }
}

const isHash = (h: Uint8Array): boolean => h.length === HASH_BYTES;
const isProof = (proof: readonly Uint8Array[]): boolean => proof.every(isHash);

/**
 * Whether `proof` shows the leaf hash at `index` in the tree of `size` with `root`: the
 * algorithm of RFC 9162 section 2.1.3.2. Never throws; anything malformed is false.
 */
export function verifyInclusion(
  hash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isSize(index) || !isSize(size) || index >= size) return false;
  if (!isHash(hash) || !isHash(root) || !isProof(proof)) return false;
  let fn = index;
  let sn = size - 1;
  let r = hash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // A right edge with no sibling at this level: climb until fn is a right child again.
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(r, root);
}

/**
 * Whether `proof` shows the tree of `oldSize` with `oldRoot` to be a prefix of the tree of
 * `size` with `root`: RFC 9162 section 2.1.4.2. Equal sizes need an empty proof and equal
 * roots; the empty tree (whose root is SHA-256 of nothing) is a prefix of every tree, with
 * an empty proof. Never throws; anything malformed is false.
 */
export function verifyConsistency(
  oldSize: number,
  size: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  root: Uint8Array,
): boolean {
  if (!isSize(oldSize) || !isSize(size) || oldSize > size) return false;
  if (!isHash(oldRoot) || !isHash(root) || !isProof(proof)) return false;
  if (oldSize === 0) return proof.length === 0 && bytesEqual(oldRoot, EMPTY_ROOT);
  if (oldSize === size) return proof.length === 0 && bytesEqual(oldRoot, root);
  if (proof.length === 0) return false;
  // When the old tree is a complete subtree its root is the first node of the path, left implicit.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = size - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(fr, oldRoot) && bytesEqual(sr, root);
}
