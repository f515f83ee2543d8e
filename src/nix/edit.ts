import type { Attrs } from './attrs.js';
import { NixError } from './errors.js';
import { entryKey, entryLabel, idNumberOf, keyNumber } from './entry-key.js';
import { identityGroups, members, type Chains } from './reach.js';
import { inputFromAttrs } from './input.js';
import type { Registry, RegistryEntry } from './registry.js';
import { readChangeEntry, readChangeFile, type EntryChange, type Position } from './changes.js';

/**
 * Applying a proposal's changes to a registry. Pure and deterministic: the
 * offline verifier replays every merge with this code and must get the same
 * bytes. An entry is named by its `from` and exactness (entry-key.ts); a
 * change that names a pair two entries share is refused, since it could mean
 * either.
 *
 * Entries sit in a doubly linked list indexed by identity, so each change costs
 * O(1) whatever the registry's size and a whole diff replays in linear time.
 */

export type EditErrorKind =
  /** An entry or file that Nix would not read whole. */
  | 'invalid-entry'
  /** `remove` or `move` of a `from` and exactness no entry has. */
  | 'missing-entry'
  /** A position whose anchor no entry has. */
  | 'missing-anchor'
  /** The change names a `from` and exactness that several entries share. */
  | 'duplicate-from'
  /** An entry placed before or after itself. */
  | 'self-anchor';

export interface EditError {
  readonly kind: EditErrorKind;
  readonly detail: string;
  /** Index of the failing change in the list. */
  readonly change: number;
}

export type EditResult =
  { readonly ok: true; readonly registry: Registry } | { readonly ok: false; readonly error: EditError };

interface Node {
  entry: RegistryEntry;
  /** `keyNumber` of its identity. */
  readonly key: number;
  prev: Node | undefined;
  next: Node | undefined;
}

type Place = 'start' | 'end' | { readonly before: Node } | { readonly after: Node };

class EntryList {
  #first: Node | undefined;
  #last: Node | undefined;
  /**
   * Who has an identity: the registry's own groups (memoised per registry, as typed arrays)
   * until a change touches a group, then that group alone, kept here. A merge changes a few
   * groups of thousands, so the list costs one node per entry and no Map of them all.
   */
  readonly #base: readonly Node[];
  readonly #groups: Chains;
  readonly #changed = new Map<number, Node[]>();

  constructor(registry: Registry) {
    this.#groups = identityGroups(registry);
    const nodes = registry.entries.map((entry): Node => ({
      entry,
      key: idNumberOf(entry),
      prev: undefined,
      next: undefined,
    }));
    for (let i = 1; i < nodes.length; i++) {
      (nodes[i] as Node).prev = nodes[i - 1];
      (nodes[i - 1] as Node).next = nodes[i];
    }
    this.#base = nodes;
    this.#first = nodes[0];
    this.#last = nodes[nodes.length - 1];
  }

  find(key: number): readonly Node[] {
    const changed = this.#changed.get(key);
    if (changed !== undefined) return changed;
    return [...members(this.#groups, key)].map((i) => this.#base[i] as Node);
  }

  insert(node: Node, place: Place): void {
    let prev: Node | undefined;
    let next: Node | undefined;
    if (place === 'start') next = this.#first;
    else if (place === 'end') prev = this.#last;
    else if ('before' in place) [prev, next] = [place.before.prev, place.before];
    else [prev, next] = [place.after, place.after.next];
    node.prev = prev;
    node.next = next;
    if (prev === undefined) this.#first = node;
    else prev.next = node;
    if (next === undefined) this.#last = node;
    else next.prev = node;
    this.#changed.set(node.key, [...this.find(node.key), node]);
  }

  unlink(node: Node): void {
    if (node.prev === undefined) this.#first = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.#last = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = undefined;
    this.#changed.set(
      node.key,
      this.find(node.key).filter((n) => n !== node),
    );
  }

  entries(): RegistryEntry[] {
    const out: RegistryEntry[] = [];
    for (let n = this.#first; n !== undefined; n = n.next) out.push(n.entry);
    return out;
  }
}

class EditFailure extends Error {
  constructor(
    readonly kind: EditErrorKind,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** A `from` as given in a change, normalised as Nix reads attributes (e.g. revs lowercased). */
function normalise(from: Attrs): Attrs {
  try {
    return inputFromAttrs(from);
  } catch (e) {
    if (e instanceof NixError) return from;
    throw e;
  }
}

/** The one entry with this `from` and exactness, or undefined; two or more is an error. */
function single(list: EntryList, from: Attrs, exact: boolean): Node | undefined {
  const nodes = list.find(keyNumber(entryKey(from, exact)));
  if (nodes.length > 1) {
    throw new EditFailure(
      'duplicate-from',
      `${nodes.length} entries are '${entryLabel(from, exact)}'; a change cannot tell them apart`,
    );
  }
  return nodes[0];
}

function place(list: EntryList, position: Position, moving: Node | undefined): Place {
  if (position === 'start' || position === 'end') return position;
  const anchorFrom = normalise('before' in position ? position.before : position.after);
  const exact = position.exact === true;
  const anchor = single(list, anchorFrom, exact);
  const label = entryLabel(anchorFrom, exact);
  if (anchor === undefined) {
    throw new EditFailure('missing-anchor', `no entry is '${label}' to place the entry next to`);
  }
  if (anchor === moving) {
    throw new EditFailure('self-anchor', `the entry '${label}' cannot be placed next to itself`);
  }
  return 'before' in position ? { before: anchor } : { after: anchor };
}

function existing(list: EntryList, from: Attrs, exact: boolean): Node {
  const node = single(list, from, exact);
  if (node === undefined) throw new EditFailure('missing-entry', `no entry is '${entryLabel(from, exact)}'`);
  return node;
}

function applyOne(list: EntryList, change: EntryChange): EntryList {
  switch (change.op) {
    case 'set': {
      const read = readChangeEntry(change.entry);
      if (!read.ok) throw new EditFailure('invalid-entry', read.detail);
      const entry = read.value;
      const node = single(list, entry.from, entry.exact);
      const where = change.position === undefined ? undefined : place(list, change.position, node);
      if (node === undefined) {
        list.insert({ entry, key: idNumberOf(entry), prev: undefined, next: undefined }, where ?? 'end');
      } else {
        node.entry = entry;
        if (where !== undefined) {
          list.unlink(node);
          list.insert(node, where);
        }
      }
      return list;
    }
    case 'remove':
      list.unlink(existing(list, normalise(change.from), change.exact === true));
      return list;
    case 'move': {
      const node = existing(list, normalise(change.from), change.exact === true);
      const where = place(list, change.position, node);
      list.unlink(node);
      list.insert(node, where);
      return list;
    }
    case 'file': {
      const read = readChangeFile(change.file);
      if (!read.ok) throw new EditFailure('invalid-entry', read.detail);
      return new EntryList(read.value);
    }
  }
}

/** Applies `changes` in order; the first one that cannot apply stops it, with its index. */
export function applyChanges(registry: Registry, changes: readonly EntryChange[]): EditResult {
  let list = new EntryList(registry);
  for (const [index, change] of changes.entries()) {
    try {
      list = applyOne(list, change);
    } catch (e) {
      if (e instanceof EditFailure) return { ok: false, error: { kind: e.kind, detail: e.detail, change: index } };
      throw e;
    }
  }
  return { ok: true, registry: { entries: list.entries() } };
}
