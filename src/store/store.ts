import { Lru } from '../lru.js';
import { StorageError } from './errors.js';
import { kvKeys } from './layout.js';
import { HeadSchema, VersionRecordSchema, type Head, type VersionRecord } from './records.js';
import { StoredVersion } from './version.js';

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
 * answers, records and the request itself need room too.
 */
export const DEFAULT_VERSION_BYTES = 48 * 1024 * 1024;

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
  readonly #versions: Lru<string, StoredVersion>;
  readonly #records = new Lru<string, VersionRecord>(1024);
  readonly #tiles = new Lru<string, Uint8Array>(TILE_BYTES, (key, bytes) => key.length + bytes.byteLength);
  readonly #checkpoints = new Map<string, { note: string; until: number }>();

  constructor(options: KvStoreOptions) {
    this.names = options.names;
    this.#kv = options.kv;
    this.#seed = options.seed;
    this.#headTtlMs = options.headTtlMs;
    this.#now = options.now ?? Date.now;
    this.#versions = new Lru(options.versionBytes ?? DEFAULT_VERSION_BYTES, (_, v) => v.estimatedBytes);
  }

  /** Bytes the cached versions are estimated to hold. */
  get cachedVersionBytes(): number {
    return this.#versions.weight;
  }

  async head(registry: string): Promise<Head | undefined> {
    if (!this.names.includes(registry)) return undefined;
    const cached = this.#heads.get(registry);
    if (cached && cached.until > this.#now()) return cached.head;
    const raw = await this.#get(kvKeys.head(registry));
    const head = raw === null ? await this.#seed(registry) : parseJson(HeadSchema, raw, registry);
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
    const [body, rawRecord] = await Promise.all([
      this.#get(kvKeys.versionFile(registry, version)),
      this.#get(kvKeys.versionRecord(registry, version)),
    ]);
    if (body === null || rawRecord === null) {
      throw new StorageError(`version ${version} of registry '${registry}' is not readable yet`);
    }
    return new StoredVersion(parseJson(VersionRecordSchema, rawRecord, registry), body);
  }

  async logTile(registry: string, path: string): Promise<Uint8Array | null> {
    const key = kvKeys.logTile(registry, path);
    const cached = this.#tiles.get(key);
    if (cached) return cached;
    let buffer: ArrayBuffer | null;
    try {
      buffer = await this.#kv.get(key, 'arrayBuffer');
    } catch (cause) {
      throw new StorageError(`KV read of '${key}' failed`, { cause });
    }
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
