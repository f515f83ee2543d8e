import { baseKey } from './entry-key.js';
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
export function indexFor(registry: Registry, starts: Iterable<string>): RegistryIndex {
  const groups = new Map<string, RegistryEntry[]>();
  for (const e of registry.entries) {
    const k = baseKey(e.from);
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [e]);
    else g.push(e);
  }
  const wanted = new Set<string>();
  const queue = [...starts];
  while (queue.length > 0) {
    const k = queue.pop() as string;
    if (wanted.has(k)) continue;
    wanted.add(k);
    for (const e of groups.get(k) ?? []) queue.push(baseKey(e.to));
  }
  return new RegistryIndex({ entries: registry.entries.filter((e) => wanted.has(baseKey(e.from))) });
}
