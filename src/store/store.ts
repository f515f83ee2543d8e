import { Lru } from '../lru.js';
import { RegistryIndex, type EntryFinder } from '../nix/lookup.js';
import { readRegistryAsNix, type RegistryEntry } from '../nix/registry.js';
import { StorageError } from './errors.js';
import { kvKeys } from './layout.js';
import {
  ENTRIES_PER_BLOCK,
  LookupFormError,
  readBlock,
  readManifest,
  readShard,
  ShardedLookup,
  type ShardNeeded,
} from './lookup-form.js';
import { HeadSchema, VersionRecordSchema, type Head, type VersionRecord } from './records.js';
import { StoredVersion } from './version.js';

/** Some of a version's entries, in file order from `start`. */
export interface VersionEntries {
  readonly record: VersionRecord;
  /** How many entries the version has. */
  readonly total: number;
  readonly start: number;
  readonly entries: readonly RegistryEntry[];
}

/** A version as a lookup needs it: its record, and what finds its entries. */
export interface VersionLookup {
  readonly record: VersionRecord;
  readonly finder: EntryFinder;
}

/** The read side of storage, the only thing routes see. */
export interface RegistryStore {
  /** The hosted registries, in the order they were configured. */
  readonly names: readonly string[];
  /** The newest version's pointer, or undefined for a registry that is not hosted. */
  head(registry: string): Promise<Head | undefined>;
  /** A version, or undefined when the registry is not hosted or has no such version. */
  version(registry: string, version: number): Promise<StoredVersion | undefined>;
  /** A version's record alone (no file), or undefined like `version`. */
  record(registry: string, version: number): Promise<VersionRecord | undefined>;
  /** The version's file read as Nix reads it, indexed: built once, kept while it fits. */
  indexOf(version: StoredVersion): RegistryIndex;
  /**
   * A version for lookups, or undefined like `version`: through its lookup form when it
   * has one (no file read; a finder that throws ShardNeeded for a shard not loaded yet),
   * else through its file's index.
   */
  lookup(registry: string, version: number): Promise<VersionLookup | undefined>;
  /**
   * Entries `start` to `end` (excluded) of a version in file order, with the version's
   * record and entry count, or undefined like `version`: from its lookup form's blocks
   * when it has them (a page of entries reads one or two), else from its file.
   */
  entries(registry: string, version: number, start: number, end: number): Promise<VersionEntries | undefined>;
  /** Loads the shard a lookup asked for; throws LookupFormError when it disagrees with its manifest. */
  loadShard(needed: ShardNeeded): Promise<void>;
  /** A lookup form found to disagree with its version: never used again here; its file's index instead. */
  rejectLookup(lookup: ShardedLookup, error: LookupFormError): Promise<VersionLookup>;
  /**
   * Tells the store of a head the writer has just published, so that this
   * isolate serves it at once instead of after its cached head expires.
   */
  learnHead(registry: string, head: Head): void;
  /** Keeps a version this isolate already holds (from the writer), so it is served without KV. */
  learnVersion(version: StoredVersion): void;
  /** A log tile or entry bundle by its tlog-tiles path, or null when KV has none (immutable once there). */
  logTile(registry: string, path: string): Promise<Uint8Array | null>;
  /** The signed checkpoint note KV has, or null; kept a few seconds at most. */
  checkpoint(registry: string): Promise<string | null>;
}

/** Asks the registry's writer for its head when KV has none yet (a fresh store). */
export type Seeder = (registry: string) => Promise<Head>;

/** The one KV call the read side makes (a KVNamespace binding is one). */
export interface KvReader {
  get(key: string, type: 'text'): Promise<string | null>;
  get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null>;
}

/** How long a checkpoint read from KV is reused: short, for freshness is what it proves. */
const CHECKPOINT_TTL_MS = 5_000;
/** Log tiles kept per isolate, by bytes: a full tile is 8 KiB. */
const TILE_BYTES = 4 * 1024 * 1024;

export interface KvStoreOptions {
  readonly kv: KvReader;
  readonly names: readonly string[];
  readonly seed: Seeder;
  /** How long a head read from KV is reused in memory; KV itself is only eventually consistent. */
  readonly headTtlMs: number;
  readonly now?: () => number;
  /** Versions kept in memory, by estimated bytes (least recently used go first). */
  readonly versionBytes?: number;
}

/**
 * What an isolate may spend on cached versions: an isolate has 128 MB, and the
 * answers, records and the request itself need room too. A half goes to files'
 * bytes (a 100,000-entry file is about 20 MB), a third to their indexes, a sixth to
 * lookup forms.
 */
export const DEFAULT_VERSION_BYTES = 48 * 1024 * 1024;

/**
 * A file read as Nix reads it and indexed, per byte of the file: measured by
 * `npm run bench` (docs/performance.md) to stay above what the heap really grows by.
 */
export const INDEX_BYTES_PER_FILE_BYTE = 3;
/** A shard parsed, per character of its text. */
const SHARD_BYTES_PER_CHARACTER = 4;
/** Versions whose lookup form was refused, remembered so that it is not fetched again. */
const REFUSED_KEPT = 1024;

/**
 * Reads registries from Workers KV and keeps immutable versions in the isolate's
 * memory, so that a warm request makes no KV read at all.
 *
 * Only settled values are kept across requests, never a promise: in workerd a
 * promise that waits on one request's I/O dies with that request (the client
 * disconnects, a sibling lookup fails first and the response goes out), and any
 * other request awaiting it would hang. So a cold version is loaded by every
 * request that needs it until the first load finishes; from then on all are
 * served from memory.
 */
export class KvRegistryStore implements RegistryStore {
  readonly names: readonly string[];
  readonly #kv: KvReader;
  readonly #seed: Seeder;
  readonly #headTtlMs: number;
  readonly #now: () => number;
  readonly #heads = new Map<string, { head: Head; until: number }>();
  /** The newest version each registry's head in KV has named here: KV has its lookup form. */
  readonly #kvHeads = new Map<string, number>();
  readonly #versions: Lru<string, StoredVersion>;
  /** Each index with the size of the file it was read from, which weighs it. */
  readonly #indexes: Lru<string, { index: RegistryIndex; fileBytes: number }>;
  readonly #lookups: Lru<string, { record: VersionRecord; lookup: ShardedLookup }>;
  readonly #refused = new Lru<string, true>(REFUSED_KEPT);
  readonly #records = new Lru<string, VersionRecord>(1024);
  readonly #tiles = new Lru<string, Uint8Array>(TILE_BYTES, (key, bytes) => key.length + bytes.byteLength);
  readonly #checkpoints = new Map<string, { note: string; until: number }>();

  constructor(options: KvStoreOptions) {
    this.names = options.names;
    this.#kv = options.kv;
    this.#seed = options.seed;
    this.#headTtlMs = options.headTtlMs;
    this.#now = options.now ?? Date.now;
    const bound = options.versionBytes ?? DEFAULT_VERSION_BYTES;
    this.#versions = new Lru(bound / 2, (_, v) => v.estimatedBytes);
    this.#indexes = new Lru(bound / 3, (_, { fileBytes }) => fileBytes * INDEX_BYTES_PER_FILE_BYTE + 1024);
    this.#lookups = new Lru(
      bound / 6,
      (key, { lookup }) =>
        key.length + 1024 + lookup.manifest.shards.length * 80 + lookup.chars * SHARD_BYTES_PER_CHARACTER,
    );
  }

  /** Bytes the cached versions (files, indexes and lookup forms) are estimated to hold. */
  get cachedVersionBytes(): number {
    return this.#versions.weight + this.#indexes.weight + this.#lookups.weight;
  }

  async head(registry: string): Promise<Head | undefined> {
    if (!this.names.includes(registry)) return undefined;
    const cached = this.#heads.get(registry);
    if (cached && cached.until > this.#now()) return cached.head;
    const raw = await this.#get(kvKeys.head(registry));
    const head = raw === null ? await this.#seed(registry) : parseJson(HeadSchema, raw, registry);
    if (raw !== null) this.#kvHeads.set(registry, Math.max(head.version, this.#kvHeads.get(registry) ?? 0));
    this.learnHead(registry, head);
    return this.#heads.get(registry)?.head ?? head;
  }

  learnHead(registry: string, head: Head): void {
    const cached = this.#heads.get(registry);
    // Never step back: a KV replica may briefly serve an older head than one already seen here.
    const newest = cached && cached.head.version > head.version ? cached.head : head;
    this.#heads.set(registry, { head: newest, until: this.#now() + this.#headTtlMs });
  }

  learnVersion(version: StoredVersion): void {
    this.#versions.set(`${version.registry}@${version.number}`, version);
  }

  indexOf(version: StoredVersion): RegistryIndex {
    const key = `${version.registry}@${version.number}`;
    const kept = this.#indexes.get(key);
    if (kept) return kept.index;
    // Read as Nix reads it, not with the checks a file passes before it is published:
    // those ran when this version was written, and a later, stricter release of them
    // must not turn a published version unreadable.
    const index = new RegistryIndex(readRegistryAsNix(version.body).registry);
    this.#indexes.set(key, { index, fileBytes: version.bytes.byteLength });
    return index;
  }

  async lookup(registry: string, version: number): Promise<VersionLookup | undefined> {
    const key = `${registry}@${version}`;
    const kept = this.#lookups.get(key);
    if (kept) return { record: kept.record, finder: kept.lookup };
    const held = this.#versions.get(key);
    const indexed = held && this.#indexes.get(key);
    if (held && indexed) return { record: held.record, finder: indexed.index };
    return this.#ifPublished(registry, version, async () => {
      // A version this isolate had from the writer before KV named it may not have its form
      // in KV yet, and KV would keep the miss for a minute: its file serves instead.
      const known = held !== undefined && version > (this.#kvHeads.get(registry) ?? 0);
      const refused = known || this.#refused.get(key) !== undefined;
      const [record, manifest] = await Promise.all([
        this.record(registry, version),
        refused ? null : this.#get(kvKeys.lookupManifest(registry, version)),
      ]);
      if (!record) throw new StorageError(`version ${version} of registry '${registry}' is not readable yet`);
      // Versions published before lookup forms existed have none: their file serves.
      if (manifest !== null) {
        try {
          const lookup = new ShardedLookup(readManifest(manifest, record));
          this.#lookups.set(key, { record, lookup });
          return { record, finder: lookup };
        } catch (error) {
          if (!(error instanceof LookupFormError)) throw error;
          this.#refuse(key, error);
        }
      }
      return this.#fileLookup(registry, version);
    });
  }

  async entries(registry: string, version: number, start: number, end: number): Promise<VersionEntries | undefined> {
    const found = await this.lookup(registry, version);
    if (!found) return undefined;
    const { record, finder } = found;
    if (finder instanceof ShardedLookup) {
      const total = finder.manifest.entries;
      const [from, to] = [Math.max(0, Math.min(start, total)), Math.max(0, Math.min(end, total))];
      try {
        const missing: number[] = [];
        for (let b = Math.floor(from / ENTRIES_PER_BLOCK); b * ENTRIES_PER_BLOCK < to; b++) {
          if (!finder.hasBlock(b)) missing.push(b);
        }
        // Read together: a search of a 100,000-entry registry reads its 100 blocks.
        await Promise.all(missing.map((b) => this.#loadBlock(finder, b)));
        return { record, total, start: from, entries: finder.slice(from, to) };
      } catch (error) {
        if (!(error instanceof LookupFormError)) throw error;
        await this.rejectLookup(finder, error);
        return this.entries(registry, version, start, end);
      }
    }
    const all = (finder as RegistryIndex).entries;
    const from = Math.max(0, Math.min(start, all.length));
    return { record, total: all.length, start: from, entries: all.slice(from, Math.max(from, end)) };
  }

  async #loadBlock(lookup: ShardedLookup, block: number): Promise<void> {
    const { registry, version } = lookup.manifest;
    const text = await this.#get(kvKeys.lookupBlock(registry, version, block));
    if (text === null) throw new LookupFormError(`its block ${block} is missing`);
    lookup.addBlock(block, readBlock(lookup.manifest, block, text), text.length);
    this.#reweigh(lookup);
  }

  /** Weighs a lookup again with what it now holds. */
  #reweigh(lookup: ShardedLookup): void {
    const key = `${lookup.manifest.registry}@${lookup.manifest.version}`;
    const kept = this.#lookups.get(key);
    if (kept?.lookup === lookup) this.#lookups.set(key, kept);
  }

  async loadShard(needed: ShardNeeded): Promise<void> {
    const { lookup, shard } = needed;
    const { registry, version } = lookup.manifest;
    const text = await this.#get(kvKeys.lookupShard(registry, version, shard));
    if (text === null) throw new LookupFormError(`its shard ${shard} is missing`);
    lookup.add(shard, readShard(lookup.manifest, shard, text), text.length);
    this.#reweigh(lookup);
  }

  async rejectLookup(lookup: ShardedLookup, error: LookupFormError): Promise<VersionLookup> {
    const { registry, version } = lookup.manifest;
    this.#refuse(`${registry}@${version}`, error);
    return this.#fileLookup(registry, version);
  }

  #refuse(key: string, error: LookupFormError): void {
    if (this.#refused.get(key) === undefined) {
      console.error(`the lookup form of ${key} disagrees with its version and is not used: ${error.message}`);
    }
    this.#refused.set(key, true);
    this.#lookups.delete(key);
  }

  async #fileLookup(registry: string, version: number): Promise<VersionLookup> {
    const held = await this.version(registry, version);
    if (!held) throw new StorageError(`version ${version} of registry '${registry}' is not readable yet`);
    return { record: held.record, finder: this.indexOf(held) };
  }

  async version(registry: string, version: number): Promise<StoredVersion | undefined> {
    const key = `${registry}@${version}`;
    const cached = this.#versions.get(key);
    if (cached) return cached;
    // Looked up again once the head is known: finding it may have brought the version
    // itself (a seed hands over version 1 before KV has it).
    const loaded = await this.#ifPublished(registry, version, () =>
      Promise.resolve(this.#versions.get(key) ?? this.#load(registry, version)),
    );
    if (loaded) this.#versions.set(key, loaded);
    return loaded;
  }

  async record(registry: string, version: number): Promise<VersionRecord | undefined> {
    const key = `${registry}@${version}`;
    const loaded = this.#versions.get(key)?.record ?? this.#records.get(key);
    if (loaded) return loaded;
    const record = await this.#ifPublished(registry, version, async () => {
      const raw = await this.#get(kvKeys.versionRecord(registry, version));
      if (raw === null) throw new StorageError(`version ${version} of registry '${registry}' is not readable yet`);
      return parseJson(VersionRecordSchema, raw, registry);
    });
    if (record) this.#records.set(key, record);
    return record;
  }

  /**
   * Runs `load` only for a version at or below the head. Versions beyond it are
   * never asked of KV: KV caches misses too, and a cached miss could hide the
   * version for a minute once it exists.
   */
  async #ifPublished<T>(registry: string, version: number, load: () => Promise<T>): Promise<T | undefined> {
    const head = await this.head(registry);
    if (!head || version < 1 || version > head.version) return undefined;
    return load();
  }

  async #load(registry: string, version: number): Promise<StoredVersion> {
    const key = `${registry}@${version}`;
    const [body, record] = await Promise.all([
      this.#bytes(kvKeys.versionFile(registry, version)),
      this.#records.get(key) ?? this.#get(kvKeys.versionRecord(registry, version)),
    ]);
    if (body === null || record === null) {
      throw new StorageError(`version ${version} of registry '${registry}' is not readable yet`);
    }
    const parsed = typeof record === 'string' ? parseJson(VersionRecordSchema, record, registry) : record;
    return new StoredVersion(parsed, new Uint8Array(body));
  }

  async logTile(registry: string, path: string): Promise<Uint8Array | null> {
    const key = kvKeys.logTile(registry, path);
    const cached = this.#tiles.get(key);
    if (cached) return cached;
    const buffer = await this.#bytes(key);
    if (buffer === null) return null;
    const bytes = new Uint8Array(buffer);
    this.#tiles.set(key, bytes);
    return bytes;
  }

  async checkpoint(registry: string): Promise<string | null> {
    const cached = this.#checkpoints.get(registry);
    if (cached && cached.until > this.#now()) return cached.note;
    const note = await this.#get(kvKeys.logCheckpoint(registry));
    if (note !== null) this.#checkpoints.set(registry, { note, until: this.#now() + CHECKPOINT_TTL_MS });
    return note;
  }

  async #bytes(key: string): Promise<ArrayBuffer | null> {
    try {
      return await this.#kv.get(key, 'arrayBuffer');
    } catch (cause) {
      throw new StorageError(`KV read of '${key}' failed`, { cause });
    }
  }

  async #get(key: string): Promise<string | null> {
    try {
      return await this.#kv.get(key, 'text');
    } catch (cause) {
      throw new StorageError(`KV read of '${key}' failed`, { cause });
    }
  }
}

function parseJson<T>(schema: { parse(value: unknown): T }, raw: string, registry: string): T {
  try {
    return schema.parse(JSON.parse(raw));
  } catch (cause) {
    throw new StorageError(`stored data of registry '${registry}' is unreadable`, { cause });
  }
}
