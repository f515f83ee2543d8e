import { entriesEqual, entryToJson, idNumberOf, keyOf, keysNumbered, labelOf } from './entry-key.js';
import type { Registry, RegistryEntry } from './registry.js';
import { writeRegistry } from './registry.js';
import type { ChangeFile, EntryChange, Position } from './changes.js';

/**
 * What changed between two registry versions, by entry (`from` URLs with
 * ` (exact)` after exact ones, see `entryLabel`: the shape of a version
 * record's change summary), and the shortest list of set/remove/move changes
 * that turns the first into the second.
 *
 * Entries are paired by `from` and exactness; when several share both (a file
 * lint already flags), the k-th of each side are paired. The common entries
 * that keep their relative order are a longest common subsequence; every other
 * common entry counts as moved. With distinct keys that subsequence is a
 * longest increasing subsequence, found in O(n log n).
 *
 * Versions share their unchanged entry objects, so the usual diff (a version
 * and the same version with a proposal applied) first trims the longest common
 * prefix and suffix of identical objects and pairs only what lies between;
 * that gives the same result as the whole diff whenever no entry between has
 * a twin (see `diffRegistries`).
 */

export interface ChangeSummary {
  added: string[];
  removed: string[];
  changed: string[];
  moved: string[];
}

export interface RegistryDiff {
  readonly summary: ChangeSummary;
  /**
   * Applying these to the first registry gives the second exactly. When an
   * edit would have to name a `from` and exactness that several entries
   * share, no list of entry changes can say which one is meant, and this is a
   * single `file` change instead.
   */
  readonly changes: EntryChange[];
  /** Identities (`entryKey`) the changes name, as targets or anchors; `all` for a `file` change. */
  readonly touched: ReadonlySet<string> | 'all';
  /** Identities of the entries in the summary. */
  readonly changedKeys: ReadonlySet<string>;
}

/**
 * How many entries of a registry have each identity, by its `keyNumber` (a number past the
 * array's end: none); memoised, as the head is diffed by every merge.
 */
const countCache = new WeakMap<Registry, Uint32Array>();

function countsOf(registry: Registry): Uint32Array {
  let counts = countCache.get(registry);
  if (counts === undefined) {
    const numbers = registry.entries.map(idNumberOf);
    counts = new Uint32Array(keysNumbered());
    for (const n of numbers) counts[n] = (counts[n] as number) + 1;
    countCache.set(registry, counts);
  }
  return counts;
}

const countIn = (counts: Uint32Array, n: number): number => (n < counts.length ? (counts[n] as number) : 0);

/** Indices (into `values`) of a longest strictly increasing subsequence; values are distinct. */
function longestIncreasing(values: readonly number[]): Set<number> {
  const tails: number[] = [];
  const prev: number[] = new Array<number>(values.length).fill(-1);
  values.forEach((v, i) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((values[tails[mid] as number] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1] as number;
    tails[lo] = i;
  });
  const kept = new Set<number>();
  for (let i = tails.length === 0 ? -1 : (tails[tails.length - 1] as number); i >= 0; i = prev[i] as number)
    kept.add(i);
  return kept;
}

/** The entries of `a` and `b` to pair, and how to tell whether an identity is shared. */
interface Window {
  /** First index of the window in both registries. */
  readonly start: number;
  readonly endA: number;
  readonly endB: number;
  /** Pairing token of each entry in the window (identity plus occurrence), by index. */
  readonly tokenA: (i: number) => string;
  readonly tokenB: (j: number) => string;
  /** Whether more than one entry of either registry has this entry's identity. */
  readonly shared: (entry: RegistryEntry) => boolean;
}

/** The whole of both registries, entries numbered by occurrence of their identity. */
function wholeWindow(a: Registry, b: Registry): Window {
  const tokens = (r: Registry) => {
    const counts = new Map<string, number>();
    return r.entries.map((e) => {
      const key = keyOf(e);
      const n = counts.get(key) ?? 0;
      counts.set(key, n + 1);
      return n === 0 ? key : `${key}\n${n}`;
    });
  };
  const [ta, tb] = [tokens(a), tokens(b)];
  const [ca, cb] = [countsOf(a), countsOf(b)];
  return {
    start: 0,
    endA: a.entries.length,
    endB: b.entries.length,
    tokenA: (i) => ta[i] as string,
    tokenB: (j) => tb[j] as string,
    shared: (e) => countIn(ca, idNumberOf(e)) > 1 || countIn(cb, idNumberOf(e)) > 1,
  };
}

/**
 * Only the entries between the longest common prefix and suffix of identical
 * objects, or undefined when that would pair differently from the whole
 * diff. Identical entries keep their place and are never reported. If no
 * identity in between occurs twice in either registry, every entry in between
 * is its identity's only occurrence on both sides, so pairing by identity
 * alone pairs as occurrence numbers do, and the entries outside pair with
 * themselves. A longest increasing subsequence over prefix, middle and suffix
 * then keeps exactly what one over the middle keeps, as the prefix's values
 * are below and the suffix's above every middle value. `b`'s counts follow
 * from `a`'s and the two middles, so only the head's are counted in full.
 */
function trimmedWindow(a: Registry, b: Registry): Window | undefined {
  const [ea, eb] = [a.entries, b.entries];
  let start = 0;
  while (start < ea.length && start < eb.length && ea[start] === eb[start]) start++;
  let endA = ea.length;
  let endB = eb.length;
  while (endA > start && endB > start && ea[endA - 1] === eb[endB - 1]) {
    endA--;
    endB--;
  }
  const inMiddle = (entries: readonly RegistryEntry[], end: number) => {
    const counts = new Map<number, number>();
    for (let i = start; i < end; i++) {
      const n = idNumberOf(entries[i] as RegistryEntry);
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    return counts;
  };
  const [ma, mb] = [inMiddle(ea, endA), inMiddle(eb, endB)];
  const ca = countsOf(a);
  const countA = (n: number) => countIn(ca, n);
  const countB = (n: number) => countA(n) - (ma.get(n) ?? 0) + (mb.get(n) ?? 0);
  for (const n of [...ma.keys(), ...mb.keys()]) if (countA(n) > 1 || countB(n) > 1) return undefined;
  return {
    start,
    endA,
    endB,
    tokenA: (i) => keyOf(ea[i] as RegistryEntry),
    tokenB: (j) => keyOf(eb[j] as RegistryEntry),
    shared: (e) => countA(idNumberOf(e)) > 1 || countB(idNumberOf(e)) > 1,
  };
}

/** An entry's identity as a change names it. */
function named(entry: RegistryEntry): { from: RegistryEntry['from']; exact?: true } {
  const json = entryToJson(entry);
  return json.exact ? { from: json.from, exact: true } : { from: json.from };
}

export function diffRegistries(a: Registry, b: Registry): RegistryDiff {
  const w = trimmedWindow(a, b) ?? wholeWindow(a, b);
  const summary: ChangeSummary = { added: [], removed: [], changed: [], moved: [] };
  const changedKeys = new Set<string>();
  const changes: EntryChange[] = [];
  const touched = new Set<string>();
  let ambiguous = false;

  // Position in `a` of each token of the window.
  const inA = new Map<string, number>();
  for (let i = w.start; i < w.endA; i++) inA.set(w.tokenA(i), i);
  const inB = new Set<string>();
  for (let j = w.start; j < w.endB; j++) inB.add(w.tokenB(j));

  for (let i = w.start; i < w.endA; i++) {
    if (inB.has(w.tokenA(i))) continue;
    const entry = a.entries[i] as RegistryEntry;
    const key = keyOf(entry);
    summary.removed.push(labelOf(entry));
    changedKeys.add(key);
    touched.add(key);
    if (w.shared(entry)) ambiguous = true;
    changes.push({ op: 'remove', ...named(entry) });
  }

  // Positions in `a` of the common entries, in `b`'s order.
  const commonB: number[] = [];
  const positionsInA: number[] = [];
  for (let j = w.start; j < w.endB; j++) {
    const i = inA.get(w.tokenB(j));
    if (i === undefined) continue;
    commonB.push(j);
    positionsInA.push(i);
  }
  const staying = new Set([...longestIncreasing(positionsInA)].map((k) => commonB[k] as number));

  for (let j = w.start; j < w.endB; j++) {
    const entry = b.entries[j] as RegistryEntry;
    const i = inA.get(w.tokenB(j));
    const before: RegistryEntry | undefined = i === undefined ? undefined : a.entries[i];
    const isNew = before === undefined;
    const moved = !isNew && !staying.has(j);
    const changed = !isNew && !entriesEqual(before, entry);
    if (!isNew && !moved && !changed) continue;
    const label = labelOf(entry);
    if (isNew) summary.added.push(label);
    if (changed) summary.changed.push(label);
    if (moved) summary.moved.push(label);
    const key = keyOf(entry);
    changedKeys.add(key);
    touched.add(key);
    if (w.shared(entry)) ambiguous = true;
    const json = entryToJson(entry);
    if (!isNew && !moved) {
      changes.push({ op: 'set', entry: json });
      continue;
    }
    const previous = b.entries[j - 1];
    let position: Position;
    if (previous === undefined) position = 'start';
    else if (!w.shared(previous)) {
      const anchor = named(previous);
      position = anchor.exact ? { after: anchor.from, exact: true } : { after: anchor.from };
      touched.add(keyOf(previous));
    } else if (j === b.entries.length - 1) {
      // Everything before it is in place by now, so the end is right after its predecessor.
      position = 'end';
    } else {
      ambiguous = true;
      position = 'end';
    }
    if (isNew || changed) changes.push({ op: 'set', entry: json, position });
    else changes.push({ op: 'move', ...named(entry), position });
  }

  if (ambiguous) {
    const file = JSON.parse(writeRegistry(b)) as ChangeFile;
    return { summary, changes: [{ op: 'file', file }], touched: 'all', changedKeys };
  }
  return { summary, changes, touched, changedKeys };
}
