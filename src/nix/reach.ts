import { keysNumbered, keysOf } from './entry-key.js';
import { RegistryIndex } from './lookup.js';
import type { Registry, RegistryEntry } from './registry.js';

/**
 * Lookups of an input only ever try the entries whose `from` agrees with it
 * apart from `ref` and `rev`, and a hop changes only `ref` and `rev` of the
 * entry's target. So resolving inputs of a few such groups needs only the
 * groups their targets lead to: an index of that part, in file order,
 * resolves them exactly as the whole registry does, and is far cheaper to
 * build when a registry is large and the chains are short.
 */

/** Entries grouped by a numbered key (`keyNumber`), as chains through arrays: no allocation per group. */
export interface Chains {
  /** Key number → position of its first entry, or -1 (also past its end: keys numbered later). */
  readonly first: Int32Array;
  /** Position → position of the next entry with the same key, or -1. */
  readonly next: Int32Array;
}

function chains(entries: readonly RegistryEntry[], key: (e: RegistryEntry) => number): Chains {
  const numbers = entries.map(key);
  const first = new Int32Array(keysNumbered()).fill(-1);
  const next = new Int32Array(entries.length);
  for (let i = entries.length - 1; i >= 0; i--) {
    const k = numbers[i] as number;
    next[i] = first[k] as number;
    first[k] = i;
  }
  return { first, next };
}

// Registries are immutable and the head is linted and diffed again by every merge.
const byFrom = new WeakMap<Registry, Chains>();
const byTarget = new WeakMap<Registry, Chains>();

/** Entries by the `baseKey` of their `from`: the group a lookup tries. Memoised per registry. */
export function fromGroups(registry: Registry): Chains {
  let c = byFrom.get(registry);
  if (c === undefined) byFrom.set(registry, (c = chains(registry.entries, (e) => keysOf(e).baseNumber)));
  return c;
}

/** Entries by the `baseKey` of their target. Memoised per registry. */
export function targetGroups(registry: Registry): Chains {
  let c = byTarget.get(registry);
  if (c === undefined) byTarget.set(registry, (c = chains(registry.entries, (e) => keysOf(e).toBaseNumber)));
  return c;
}

const byIdentity = new WeakMap<Registry, Chains>();

/** Entries by their identity (`entryKey`): what a change names. Memoised per registry. */
export function identityGroups(registry: Registry): Chains {
  let c = byIdentity.get(registry);
  if (c === undefined) byIdentity.set(registry, (c = chains(registry.entries, (e) => keysOf(e).idNumber)));
  return c;
}

/** Position of the first entry with key number `k`, or -1. */
export function firstOf(c: Chains, k: number): number {
  return k < c.first.length ? (c.first[k] as number) : -1;
}

/** Positions of the entries with key number `k`, in file order. */
export function* members(c: Chains, k: number): Generator<number> {
  for (let i = firstOf(c, k); i >= 0; i = c.next[i] as number) yield i;
}

/** An index of the part of `registry` that lookups of inputs in the groups `starts` (key numbers of `baseKey`s) can reach. */
export function indexFor(registry: Registry, starts: Iterable<number>): RegistryIndex {
  const groups = fromGroups(registry);
  const wanted = new Set<number>();
  const positions: number[] = [];
  const queue = [...starts];
  while (queue.length > 0) {
    const k = queue.pop() as number;
    if (wanted.has(k)) continue;
    wanted.add(k);
    for (const i of members(groups, k)) {
      positions.push(i);
      queue.push(keysOf(registry.entries[i] as RegistryEntry).toBaseNumber);
    }
  }
  positions.sort((x, y) => x - y);
  return new RegistryIndex({ entries: positions.map((i) => registry.entries[i] as RegistryEntry) });
}
