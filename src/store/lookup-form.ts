import { withoutAttrs, type AttrValue, type Attrs } from '../nix/attrs.js';
import { NixError } from '../nix/errors.js';
import { inputFromAttrs } from '../nix/input.js';
import { entryMatches, matchKey, type EntryFinder, type IndexMatch } from '../nix/lookup.js';
import type { Registry, RegistryEntry } from '../nix/registry.js';
import { sha256HexSync } from '../crypto/sha256.js';

/**
 * The lookup form: what the writer derives from each version's file for readers that
 * only look refs up (docs/storage.md, "The lookup form"). Nix's first-match lookup
 * only ever tries the entries whose `from` agrees with the input apart from `ref` and
 * `rev` (their match key, src/nix/lookup.ts), so the entries are split by that key
 * into shards of about `ENTRIES_PER_SHARD`: a first lookup in a version reads its
 * manifest and the one shard of the ref's key, whatever the registry's size, instead
 * of reading the whole file as Nix reads it.
 *
 * A reader never trusts it further than it can check: the manifest names the file's
 * SHA-256 and entry count, which the version's record also names; each shard's
 * SHA-256 is in the manifest; and every entry a lookup uses is checked to belong
 * where it was found (its key, its shard, its position in order). Anything else is a
 * form that disagrees with its version: it is not served, and the file is read
 * instead.
 */

/** The version of this layout; a manifest of another is not read (the file is). */
export const LOOKUP_FORMAT = 1;

/** Shards are sized so that a first lookup parses a few tens of kilobytes at most. */
export const ENTRIES_PER_SHARD = 256;

/** The entries in file order, in blocks of this many: a page of entries reads one or two. */
export const ENTRIES_PER_BLOCK = 1_000;

export interface LookupManifest {
  readonly format: typeof LOOKUP_FORMAT;
  readonly registry: string;
  readonly version: number;
  /** SHA-256 (hex) of the file this form was derived from: the record's `sha256`. */
  readonly file: string;
  /** The file's entry count: the record's `entries`. */
  readonly entries: number;
  /**
   * Every `type` an entry's `from` has, sorted: a lookup of any other type matches no entry
   * and reads no shard (most registries map only `indirect` ids, and Nix looks up every
   * hop's target too, `github:...` and the like).
   */
  readonly fromTypes: readonly string[];
  /** SHA-256 (hex) of each shard's text, shard 0 first. */
  readonly shards: readonly string[];
  /** SHA-256 (hex) of each block's text, block 0 (entries 0 to 999) first. */
  readonly blocks: readonly string[];
}

/** One entry in a shard: its position in the file, then the entry as Nix reads it. */
type ShardEntry = [position: number, from: Attrs, to: Attrs, exact: boolean, dir?: string];

/** A shard's text: the entries of each match key it holds, in file order. */
interface ShardJson {
  readonly groups: { readonly [key: string]: readonly ShardEntry[] };
}

/** One block's text: its entries in file order, each as Nix reads it. */
type BlockEntry = [from: Attrs, to: Attrs, exact: boolean, dir?: string];

export const shardCount = (entries: number): number => Math.max(1, Math.ceil(entries / ENTRIES_PER_SHARD));
export const blockCount = (entries: number): number => Math.ceil(entries / ENTRIES_PER_BLOCK);

/** The shard of a match key: FNV-1a (32 bits) over its UTF-16 code units. */
export function shardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

export interface LookupForm {
  readonly manifest: string;
  readonly shards: readonly string[];
  readonly blocks: readonly string[];
}

/** The lookup form of `registry`, the entries of the file whose SHA-256 is `file`, as Nix read them. */
export function deriveLookupForm(name: string, version: number, file: string, registry: Registry): LookupForm {
  const count = shardCount(registry.entries.length);
  const groups = Array.from({ length: count }, () => new Map<string, ShardEntry[]>());
  registry.entries.forEach((entry, position) => {
    const key = matchKey(entry.from);
    const shard = groups[shardOf(key, count)] as Map<string, ShardEntry[]>;
    const row: ShardEntry =
      entry.dir === undefined
        ? [position, entry.from, entry.to, entry.exact]
        : [position, entry.from, entry.to, entry.exact, entry.dir];
    const group = shard.get(key);
    if (group === undefined) shard.set(key, [row]);
    else group.push(row);
  });
  const shards = groups.map((shard) => JSON.stringify({ groups: Object.fromEntries(shard) }));
  const blocks = Array.from({ length: blockCount(registry.entries.length) }, (_, b) => {
    const rows = registry.entries
      .slice(b * ENTRIES_PER_BLOCK, (b + 1) * ENTRIES_PER_BLOCK)
      .map((entry): BlockEntry =>
        entry.dir === undefined ? [entry.from, entry.to, entry.exact] : [entry.from, entry.to, entry.exact, entry.dir],
      );
    return JSON.stringify({ entries: rows });
  });
  const manifest: LookupManifest = {
    format: LOOKUP_FORMAT,
    registry: name,
    version,
    file,
    entries: registry.entries.length,
    fromTypes: [...new Set(registry.entries.map((e) => String(e.from['type'])))].sort(),
    shards: shards.map((text) => sha256HexSync(text)),
    blocks: blocks.map((text) => sha256HexSync(text)),
  };
  return { manifest: JSON.stringify(manifest), shards, blocks };
}

/** A lookup form that does not agree with its version: never served. */
export class LookupFormError extends Error {
  override readonly name = 'LookupFormError';
  constructor(
    message: string,
    /** The lookup that found it, when a lookup did. */
    readonly lookup?: ShardedLookup,
  ) {
    super(message);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The manifest in `text`, checked against the version's record; throws LookupFormError when they disagree. */
export function readManifest(
  text: string,
  expected: { registry: string; version: number; sha256: string; entries: number },
): LookupManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new LookupFormError('its manifest is not JSON');
  }
  const m = json as Partial<LookupManifest> | null;
  if (typeof m !== 'object' || m === null || m.format !== LOOKUP_FORMAT) {
    throw new LookupFormError(`its manifest is not format ${LOOKUP_FORMAT}`);
  }
  if (m.registry !== expected.registry || m.version !== expected.version) {
    throw new LookupFormError(`its manifest is for ${JSON.stringify(m.registry)} version ${JSON.stringify(m.version)}`);
  }
  if (m.file !== expected.sha256) {
    throw new LookupFormError(
      `its manifest was derived from a file with SHA-256 ${JSON.stringify(m.file)}, not "${expected.sha256}"`,
    );
  }
  if (m.entries !== expected.entries) {
    throw new LookupFormError(
      `its manifest counts ${JSON.stringify(m.entries)} entries, the record ${expected.entries}`,
    );
  }
  const hashes = (list: unknown, count: number, what: string) => {
    const listed = Array.isArray(list) ? (list as unknown[]) : [];
    if (listed.length !== count || !listed.every((s) => typeof s === 'string' && HEX64.test(s))) {
      throw new LookupFormError(`its manifest does not list ${count} ${what} hashes`);
    }
  };
  const types: unknown = m.fromTypes;
  if (!Array.isArray(types) || !(types as unknown[]).every((t) => typeof t === 'string')) {
    throw new LookupFormError('its manifest does not list the types of its entries');
  }
  hashes(m.shards, shardCount(expected.entries), 'shard');
  hashes(m.blocks, blockCount(expected.entries), 'block');
  return m as LookupManifest;
}

/** A shard's text, checked against the manifest's hash of it. */
export function readShard(manifest: LookupManifest, shard: number, text: string): ShardJson {
  if (sha256HexSync(text) !== manifest.shards[shard]) {
    throw new LookupFormError(`its shard ${shard} does not hash to what its manifest says`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new LookupFormError(`its shard ${shard} is not JSON`);
  }
  const groups = (json as { groups?: unknown } | null)?.groups;
  if (typeof groups !== 'object' || groups === null || Array.isArray(groups)) {
    throw new LookupFormError(`its shard ${shard} has no groups`);
  }
  for (const key of Object.keys(groups)) {
    if (shardOf(key, manifest.shards.length) !== shard) {
      throw new LookupFormError(
        `its shard ${shard} holds a group that belongs in shard ${shardOf(key, manifest.shards.length)}`,
      );
    }
  }
  return json as ShardJson;
}

/** A block's text, checked against the manifest's hash of it and read into entries. */
export function readBlock(manifest: LookupManifest, block: number, text: string): RegistryEntry[] {
  const bad = (why: string) => new LookupFormError(`its block ${block} ${why}`);
  if (sha256HexSync(text) !== manifest.blocks[block]) throw bad('does not hash to what its manifest says');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw bad('is not JSON');
  }
  const rows = (json as { entries?: unknown } | null)?.entries;
  const expected = Math.min(ENTRIES_PER_BLOCK, manifest.entries - block * ENTRIES_PER_BLOCK);
  if (!Array.isArray(rows) || rows.length !== expected) throw bad(`does not hold ${expected} entries`);
  return (rows as unknown[]).map((row, i) => {
    if (!Array.isArray(row) || row.length < 3 || row.length > 4) throw bad(`holds an entry ${i} that is not one`);
    const [from, to, exact, dir] = row as unknown[];
    if (
      !isAttrs(from) ||
      !isAttrs(to) ||
      typeof exact !== 'boolean' ||
      (dir !== undefined && typeof dir !== 'string')
    ) {
      throw bad(`holds a malformed entry ${i}`);
    }
    return dir === undefined ? { from, to, exact } : { from, to, exact, dir };
  });
}

/** Thrown by a lookup that needs a shard not loaded yet; the caller loads it and runs the lookup again. */
export class ShardNeeded extends Error {
  override readonly name = 'ShardNeeded';
  constructor(
    readonly lookup: ShardedLookup,
    readonly shard: number,
  ) {
    super(`shard ${shard} of ${lookup.manifest.registry} version ${lookup.manifest.version} is not loaded`);
  }
}

const isValue = (v: unknown): v is AttrValue =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function isAttrs(v: unknown): v is Attrs {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isValue);
}

function readable(attrs: Attrs): boolean {
  try {
    inputFromAttrs(attrs);
    return true;
  } catch (error) {
    if (error instanceof NixError) return false;
    throw error;
  }
}

/**
 * The entries of one group as RegistryEntry, each checked to be where the file put it:
 * a well-formed entry, of this key, in increasing file positions within the file.
 */
function groupEntries(rows: unknown, key: string, manifest: LookupManifest, shard: number): IndexMatch[] {
  const bad = (why: string) => new LookupFormError(`its shard ${shard} ${why}`);
  if (!Array.isArray(rows)) throw bad('holds a group that is not a list');
  const matches: IndexMatch[] = [];
  let last = -1;
  for (const row of rows as unknown[]) {
    if (!Array.isArray(row) || row.length < 4 || row.length > 5) throw bad('holds an entry that is not one');
    const [position, from, to, exact, dir] = row as unknown[];
    if (!Number.isSafeInteger(position) || (position as number) <= last || (position as number) >= manifest.entries) {
      throw bad(`holds an entry at position ${String(position)} out of order`);
    }
    if (
      !isAttrs(from) ||
      !isAttrs(to) ||
      typeof exact !== 'boolean' ||
      (dir !== undefined && typeof dir !== 'string')
    ) {
      throw bad(`holds a malformed entry at position ${String(position)}`);
    }
    if (matchKey(from) !== key) throw bad(`holds the entry at position ${String(position)} under another key`);
    // As the file's reader does: an entry Nix could not read is not in the file.
    if (!readable(from) || !readable(to)) {
      throw bad(`holds an entry at position ${String(position)} that Nix cannot read`);
    }
    last = position as number;
    const entry: RegistryEntry = dir === undefined ? { from, to, exact } : { from, to, exact, dir };
    matches.push({ position: last, entry });
  }
  return matches;
}

/**
 * One version's lookups through its lookup form. Shards are loaded by the caller when
 * a lookup throws ShardNeeded (the store does it, checking each against the manifest);
 * a group is checked the first time a lookup uses it.
 */
export class ShardedLookup implements EntryFinder {
  readonly #shards = new Map<number, ShardJson>();
  readonly #groups = new Map<string, IndexMatch[]>();
  readonly #blocks = new Map<number, readonly RegistryEntry[]>();
  readonly #types: ReadonlySet<string>;
  #chars = 0;

  constructor(readonly manifest: LookupManifest) {
    this.#types = new Set(manifest.fromTypes);
  }

  /** The characters of the shards held, for the store's weighing. */
  get chars(): number {
    return this.#chars;
  }

  /** Keeps a shard read and checked by `readShard`. */
  add(shard: number, json: ShardJson, chars: number): void {
    if (this.#shards.has(shard)) return;
    this.#shards.set(shard, json);
    this.#chars += chars;
  }

  hasBlock(block: number): boolean {
    return this.#blocks.has(block);
  }

  /** Keeps a block read and checked by `readBlock`. */
  addBlock(block: number, entries: readonly RegistryEntry[], chars: number): void {
    if (this.#blocks.has(block)) return;
    this.#blocks.set(block, entries);
    this.#chars += chars;
  }

  /** Entries `start` to `end` (excluded) in file order; every block they lie in must be held. */
  slice(start: number, end: number): RegistryEntry[] {
    const out: RegistryEntry[] = [];
    for (let b = Math.floor(start / ENTRIES_PER_BLOCK); b * ENTRIES_PER_BLOCK < end; b++) {
      const entries = this.#blocks.get(b);
      if (entries === undefined) throw new Error(`block ${b} is not loaded`);
      const from = Math.max(start - b * ENTRIES_PER_BLOCK, 0);
      out.push(...entries.slice(from, end - b * ENTRIES_PER_BLOCK));
    }
    return out;
  }

  find(input: Attrs): IndexMatch | undefined {
    // A match needs the same type (matchKey keeps it): no entry has this one.
    const type = input['type'];
    if (typeof type !== 'string' || !this.#types.has(type)) return undefined;
    const key = matchKey(input);
    let group = this.#groups.get(key);
    if (group === undefined) {
      const shard = shardOf(key, this.manifest.shards.length);
      const json = this.#shards.get(shard);
      if (json === undefined) throw new ShardNeeded(this, shard);
      // Only groups that exist are kept: a ref no entry has must not grow this map.
      if (!Object.hasOwn(json.groups, key)) return undefined;
      try {
        group = groupEntries(json.groups[key], key, this.manifest, shard);
      } catch (error) {
        throw error instanceof LookupFormError ? new LookupFormError(error.message, this) : error;
      }
      this.#groups.set(key, group);
    }
    let stripped: Attrs | undefined;
    const bare = (): Attrs => (stripped ??= withoutAttrs(input, 'ref', 'rev'));
    for (const match of group) if (entryMatches(match.entry, input, bare)) return match;
    return undefined;
  }
}
