import type { AttrValue, Attrs } from './attrs.js';
import { compareKeys, sortAttrs } from './attrs.js';
import { inputToURL } from './input.js';
import type { RegistryEntry } from './registry.js';

/**
 * Entry identity for editing: an entry is named by its `from`, compared as
 * `attrsEqual` does (every attribute, value types kept apart: "1" ≠ 1 ≠ true),
 * and its exactness. A registry may hold one exact and one non-exact entry
 * with an equal `from`, and both can be reachable: the official registry's
 * exact bare `nixpkgs` takes the query `nixpkgs`, and the non-exact one after
 * it takes `nixpkgs/BRANCH`. The key is a string so that entries can be found
 * through a Map. Lengths are written out so that no attribute name or value
 * can forge another key. Keys are memoised per attribute object: registries
 * are immutable and the same entries are keyed again by every diff of a merge.
 */
const fullKeys = new WeakMap<Attrs, string>();
const baseKeys = new WeakMap<Attrs, string>();

function encode(attrs: Attrs, skipRefRev: boolean): string {
  const names = Object.keys(attrs);
  for (let i = 1; i < names.length; i++) {
    if (compareKeys(names[i - 1] as string, names[i] as string) > 0) {
      names.sort(compareKeys);
      break;
    }
  }
  let out = '';
  for (const name of names) {
    if (skipRefRev && (name === 'ref' || name === 'rev')) continue;
    const value = attrs[name] as AttrValue;
    const text = String(value);
    const tag = typeof value === 'string' ? 's' : typeof value === 'number' ? 'n' : 'b';
    out += `${name.length}:${name}${tag}${text.length}:${text};`;
  }
  return out;
}

export function attrsKey(attrs: Attrs): string {
  let key = fullKeys.get(attrs);
  if (key === undefined) fullKeys.set(attrs, (key = encode(attrs, false)));
  return key;
}

/** The part of an input that lookup matches on before looking at `ref` and `rev`. */
export function baseKey(attrs: Attrs): string {
  let key = baseKeys.get(attrs);
  if (key === undefined) baseKeys.set(attrs, (key = encode(attrs, true)));
  return key;
}

/**
 * The identity of an entry: `attrsKey` of its `from`, preceded by `=` when it
 * is exact (an attribute key always starts with a digit or is empty).
 */
export function entryKey(from: Attrs, exact: boolean): string {
  const key = attrsKey(from);
  return exact ? `=${key}` : key;
}

/**
 * Key strings numbered in the order this isolate first meets them: equal strings, equal
 * numbers. Passes over a whole registry (lint, lookup groups) then keep per-key state in
 * typed arrays instead of Maps of long strings, about ten times cheaper at 10,000 entries.
 * The table keeps every key it was given, a few bytes past the key itself; the registry
 * process that uses it is a writer's or a reader's, which meet the keys of the versions they
 * hold and few others.
 */
const keyNumbers = new Map<string, number>();

export function keyNumber(key: string): number {
  let n = keyNumbers.get(key);
  if (n === undefined) keyNumbers.set(key, (n = keyNumbers.size));
  return n;
}

/** How many keys are numbered: every `keyNumber` given so far is below it. */
export function keysNumbered(): number {
  return keyNumbers.size;
}

/** The keys of one entry, found with one look-up. */
export interface EntryKeys {
  /** `entryKey`: its identity. */
  readonly id: string;
  /** `attrsKey` of its `from`. */
  readonly from: string;
  /** `baseKey` of its `from`: the lookup group it belongs to. */
  readonly base: string;
  /** `baseKey` of its target: the group a hop through it goes on to. */
  readonly toBase: string;
  /** `keyNumber` of `id`, `from`, `base` and `toBase`. */
  readonly idNumber: number;
  readonly fromNumber: number;
  readonly baseNumber: number;
  readonly toBaseNumber: number;
}

const entryKeys = new WeakMap<RegistryEntry, EntryKeys>();

/** An entry's keys, memoised per entry object (entries are shared between versions). */
export function keysOf(entry: RegistryEntry): EntryKeys {
  let keys = entryKeys.get(entry);
  if (keys === undefined) {
    const from = attrsKey(entry.from);
    const base = baseKey(entry.from);
    const toBase = baseKey(entry.to);
    const id = entryKey(entry.from, entry.exact);
    keys = {
      id,
      from,
      base,
      toBase,
      idNumber: keyNumber(id),
      fromNumber: keyNumber(from),
      baseNumber: keyNumber(base),
      toBaseNumber: keyNumber(toBase),
    };
    entryKeys.set(entry, keys);
  }
  return keys;
}

/** `keyNumber` of an entry's `entryKey`. */
export function idNumberOf(entry: RegistryEntry): number {
  return keysOf(entry).idNumber;
}

/** `entryKey` of an entry. */
export function keyOf(entry: RegistryEntry): string {
  return keysOf(entry).id;
}

/** `entryLabel` of an entry. */
export function labelOf(entry: RegistryEntry): string {
  return entryLabel(entry.from, entry.exact);
}

/** The `from` and exactness an `entryKey` was made from. */
export function entryKeyParts(key: string): { from: Attrs; exact: boolean } {
  const exact = key.startsWith('=');
  return { from: keyAttrs(exact ? key.slice(1) : key), exact };
}

/**
 * How a change summary, a conflict or an error names an entry: its `from` as
 * Nix prints it, followed by ` (exact)` for an exact entry, so that
 * `flake:nixpkgs` and `flake:nixpkgs (exact)` tell the two official `nixpkgs`
 * entries apart. A printed URL escapes spaces and the JSON fallback ends in
 * `}`, so the suffix cannot be part of a `from` (`labelParts` takes it off).
 */
export function entryLabel(from: Attrs, exact: boolean): string {
  const url = fromURL(from);
  return exact ? `${url}${EXACT_SUFFIX}` : url;
}

const EXACT_SUFFIX = ' (exact)';

export function labelParts(label: string): { url: string; exact: boolean } {
  const exact = label.endsWith(EXACT_SUFFIX);
  return { url: exact ? label.slice(0, -EXACT_SUFFIX.length) : label, exact };
}

/** The attributes a key was made from. */
export function keyAttrs(key: string): Attrs {
  const out: [string, AttrValue][] = [];
  let i = 0;
  const take = (): string => {
    const colon = key.indexOf(':', i);
    const length = Number(key.slice(i, colon));
    const text = key.slice(colon + 1, colon + 1 + length);
    i = colon + 1 + length;
    return text;
  };
  while (i < key.length) {
    const name = take();
    const tag = key[i++];
    const text = take();
    i++; // ';'
    out.push([name, tag === 's' ? text : tag === 'n' ? Number(text) : text === 'true']);
  }
  // fromEntries defines properties, so even a `__proto__` name stays data.
  return Object.fromEntries(out);
}

export function entriesEqual(a: RegistryEntry, b: RegistryEntry): boolean {
  if (a === b) return true;
  return (
    a.exact === b.exact && a.dir === b.dir && attrsKey(a.to) === attrsKey(b.to) && attrsKey(a.from) === attrsKey(b.from)
  );
}

const urls = new WeakMap<Attrs, string>();

/** A `from` as Nix prints it; attributes no scheme prints fall back to their JSON. Memoised per object. */
export function fromURL(from: Attrs): string {
  let url = urls.get(from);
  if (url === undefined) urls.set(from, (url = printFrom(from)));
  return url;
}

function printFrom(from: Attrs): string {
  try {
    return inputToURL(from);
  } catch {
    return JSON.stringify(sortAttrs(from));
  }
}

/** The registry-file form of an entry (`dir` back inside `to`, `exact` only when true). */
export interface EntryJson {
  from: Attrs;
  to: Attrs;
  exact?: true;
}

export function entryToJson(e: RegistryEntry): EntryJson {
  return {
    from: sortAttrs(e.from),
    to: sortAttrs(e.dir === undefined ? e.to : { ...e.to, dir: e.dir }),
    ...(e.exact ? { exact: true as const } : {}),
  };
}
