import type { Attrs, FlakeRef } from './attrs.js';
import { attrsEqual, compareKeys, withoutAttrs } from './attrs.js';
import type { Registry, RegistryEntry } from './registry.js';
import { NixError } from './errors.js';
import { applyOverrides, getRef, getRev, inputToURL, isDirect } from './input.js';

/**
 * Registry lookup as Nix's `lookupInRegistries` (src/libfetchers/registry.cc)
 * does it, without its O(n) scan: an entry can match an input only when their
 * attributes agree apart from `ref` and `rev` (`Input::contains` and `==` in
 * src/libfetchers/fetchers.cc), so entries are grouped by that part of `from`
 * and only the group of the input is tried, still in file order.
 */

/** Nix gives up when its hop counter, raised before every pass, passes 100. */
export const MAX_LOOKUPS = 100;

export function matchKey(attrs: Attrs): string {
  const pairs = Object.entries(attrs)
    .filter(([k]) => k !== 'ref' && k !== 'rev')
    .sort(([a], [b]) => compareKeys(a, b));
  // JSON keeps the value's type, as Nix's variant comparison does: "1" ≠ 1 ≠ true.
  return JSON.stringify(pairs);
}

/**
 * `exact`: from == input; otherwise also `from.contains(input)`, i.e. from ==
 * input with ref and rev erased from the input only (so a `from` naming either
 * cannot match that way). `bare` gives that erased input, built at most once
 * per lookup and only when a candidate needs it.
 */
export function entryMatches(entry: RegistryEntry, input: Attrs, bare: () => Attrs): boolean {
  if (attrsEqual(entry.from, input)) return true;
  if (entry.exact || 'ref' in entry.from || 'rev' in entry.from) return false;
  return attrsEqual(entry.from, bare());
}

export interface IndexMatch {
  readonly position: number;
  readonly entry: RegistryEntry;
}

/** What a lookup needs of a registry version: its first entry in file order that matches an input. */
export interface EntryFinder {
  find(input: Attrs): IndexMatch | undefined;
}

/** One registry version, indexed once; lookups cost O(1) in its size. */
export class RegistryIndex implements EntryFinder {
  readonly #entries: readonly RegistryEntry[];
  readonly #byKey = new Map<string, number[]>();

  constructor(registry: Registry) {
    this.#entries = registry.entries;
    this.#entries.forEach((entry, position) => {
      const key = matchKey(entry.from);
      const group = this.#byKey.get(key);
      if (group === undefined) this.#byKey.set(key, [position]);
      else group.push(position);
    });
  }

  get entries(): readonly RegistryEntry[] {
    return this.#entries;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The first entry in file order that matches `input`, as Nix's loop finds it. */
  find(input: Attrs): IndexMatch | undefined {
    let stripped: Attrs | undefined;
    const bare = (): Attrs => (stripped ??= withoutAttrs(input, 'ref', 'rev'));
    for (const position of this.#byKey.get(matchKey(input)) ?? []) {
      const entry = this.#entries[position];
      if (entry !== undefined && entryMatches(entry, input, bare)) return { position, entry };
    }
    return undefined;
  }
}

/** A registry at a version; layers are searched in order, like Nix's flag, user, system, global. */
export interface LayerRef {
  readonly name: string;
  readonly version: number;
  readonly index: EntryFinder;
}

export interface Step {
  readonly registry: string;
  readonly version: number;
  /** The entry's position in its file. */
  readonly index: number;
  readonly exact: boolean;
  readonly from: Attrs;
  /** The input after this hop, overrides applied. */
  readonly to: Attrs;
  readonly dir?: string;
}

/** The entry whose target could not take the input's ref or rev: a step not taken, `to` its target as written. */
export type FailedEntry = Omit<Step, 'dir'>;

export type ResolveResult =
  | { readonly ok: true; readonly resolved: FlakeRef; readonly steps: Step[] }
  | { readonly ok: false; readonly error: NixError; readonly steps: Step[]; readonly entry?: FailedEntry };

/**
 * A hop's new input. Non-exact entries pass on the input's ref (rev) only when
 * their own `from` names none; the target's scheme decides whether it can take
 * them and throws Nix's text when not.
 */
function hop(entry: RegistryEntry, input: Attrs): Attrs {
  if (entry.exact) return entry.to;
  const ref = getRef(entry.from) === undefined ? getRef(input) : undefined;
  const rev = getRev(entry.from) === undefined ? getRev(input) : undefined;
  return applyOverrides(entry.to, ref, rev);
}

export function resolve(query: FlakeRef, layers: readonly LayerRef[]): ResolveResult {
  const steps: Step[] = [];
  let input = query.input;
  // Nix's extraAttrs: replaced by every matching entry's, even an empty one.
  let dir: string | undefined;
  let current: FailedEntry | undefined;
  try {
    for (let n = 1; ; n++) {
      if (n > MAX_LOOKUPS) {
        throw new NixError('cycle', `cycle detected in flake registry for '${inputToURL(input)}'`);
      }
      const found = findInLayers(layers, input);
      if (found === undefined) break;
      const { layer, match } = found;
      current = {
        registry: layer.name,
        version: layer.version,
        index: match.position,
        exact: match.entry.exact,
        from: match.entry.from,
        to: match.entry.to,
      };
      input = hop(match.entry, input);
      current = undefined;
      dir = match.entry.dir;
      steps.push({
        registry: layer.name,
        version: layer.version,
        index: match.position,
        exact: match.entry.exact,
        from: match.entry.from,
        to: input,
        ...(dir === undefined ? {} : { dir }),
      });
    }
    if (!isDirect(input)) {
      throw new NixError('not-found', `cannot find flake '${inputToURL(input)}' in the flake registries`);
    }
  } catch (e) {
    if (e instanceof NixError) return { ok: false, error: e, steps, ...(current ? { entry: current } : {}) };
    throw e;
  }
  // FlakeRef::resolve: the last entry's `dir` if it has one, else the query's own.
  return { ok: true, resolved: { input, dir: dir ?? query.dir }, steps };
}

function findInLayers(layers: readonly LayerRef[], input: Attrs): { layer: LayerRef; match: IndexMatch } | undefined {
  for (const layer of layers) {
    const match = layer.index.find(input);
    if (match !== undefined) return { layer, match };
  }
  return undefined;
}
