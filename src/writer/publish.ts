import type { SecretKey } from '../crypto/keys.js';
import { signCheckpoint } from '../log/checkpoint.js';
import { verifierKey } from '../log/vkey.js';
import { bundlePath, newTiles, tileBytes, formatBundle, tilePath } from '../log/tiles.js';
import type { Registry } from '../nix/registry.js';
import { kvKeys } from '../store/layout.js';
import { blockCount, deriveLookupForm, shardCount } from '../store/lookup-form.js';
import type { WriterLog } from './log.js';
import { headOf } from './outcomes.js';
import type { WriterSql } from './sql.js';
import { META, textKeys } from './tables.js';

/**
 * KV writes one publishing run makes for versions, at most: KV takes 1,000 operations in one
 * invocation (a request, or an alarm), and the log's tiles, the head and the checkpoint follow
 * in the same run. What is left waits for the alarm, a new invocation, set at once.
 */
export const KV_WRITES_PER_RUN = 900;

/** What publishing a version of `entries` entries writes: its lookup form's parts, its manifest, file and record. */
export const versionWrites = (entries: number): number => 3 + shardCount(entries) + blockCount(entries);

/** KV takes at most one write a second to one key. */
const HEAD_WRITE_INTERVAL_MS = 1_000;
const RETRY_MS = { first: 1_000, max: 5 * 60_000 };
/** How often a reader's report of a missing KV head may make the writer write it again. */
const REPAIR_INTERVAL_MS = 60_000;
/**
 * How often the writer cosigns its checkpoint again with the time, so that a
 * client can tell a current view from a stale one (docs/log.md, Freshness).
 */
export const COSIGN_INTERVAL_MS = 60 * 60_000;

/** The log's key and the origin line of a registry's checkpoints. */
export interface LogSigning {
  readonly key: SecretKey;
  readonly origin: (registry: string) => string;
}

/**
 * Copies the writer's versions to KV, the replica readers use. Idempotent and
 * in order: a version's file and record before any head names it, then the
 * head, at most once a second (a burst of merges publishes only the newest).
 * How far KV has got is kept in the writer's own storage, so a failure is
 * retried from the alarm until KV has everything, whoever asks next or nobody.
 */
export class Publisher {
  readonly #ctx: DurableObjectState;
  readonly #sql: WriterSql;
  readonly #kv: () => KVNamespace;
  readonly #log: WriterLog;
  readonly #signing: () => Promise<LogSigning | undefined>;
  readonly #registryAt: (version: number) => Registry;
  readonly #writesPerRun: number;
  #running = false;
  #lastRepair = 0;

  constructor(
    ctx: DurableObjectState,
    sql: WriterSql,
    kv: () => KVNamespace,
    log: WriterLog,
    signing: () => Promise<LogSigning | undefined>,
    registryAt: (version: number) => Registry,
    writesPerRun = KV_WRITES_PER_RUN,
  ) {
    this.#ctx = ctx;
    this.#sql = sql;
    this.#kv = kv;
    this.#log = log;
    this.#signing = signing;
    this.#registryAt = registryAt;
    this.#writesPerRun = writesPerRun;
  }

  /** After a merge: publish now, without holding up the caller. */
  soon(): void {
    this.#ctx.waitUntil(this.publish().then(() => undefined));
  }

  /**
   * Publishes whatever KV lacks. Never throws: a failure is logged and retried
   * from the alarm. Only one run at a time; a run that finds more work when it
   * ends goes on, so nothing published concurrently is missed.
   */
  async publish(): Promise<'published' | 'busy' | 'failed'> {
    if (this.#running) return 'busy';
    this.#running = true;
    let registry = '?';
    try {
      registry = this.#registry();
      for (;;) {
        const head = this.#sql.headVersion();
        // Up to the head, or fewer when the run's KV writes would run out: KV's head then names
        // the last version published, and the alarm goes on with the rest in a new invocation.
        const upTo = await this.#publishVersions(registry, head);
        await this.#publishTiles(registry, upTo);
        // The checkpoint names only what readers can have: versions up to the head KV has.
        const wait = Math.max(await this.#publishHead(registry, upTo), await this.#publishCheckpoint(registry));
        if (upTo < head) {
          await this.#alarmAt(Date.now() + Math.max(wait, 0));
          break;
        }
        if (wait > 0) {
          await this.#alarmAt(Date.now() + wait);
          break;
        }
        if (this.#sql.headVersion() === head) break;
      }
      this.#sql.setMeta(META.failures, 0);
      return 'published';
    } catch (error) {
      const failures = this.#sql.meta(META.failures) + 1;
      this.#sql.setMeta(META.failures, failures);
      console.error(`publishing registry '${registry}' to KV failed (attempt ${failures}); retrying`, error);
      await this.#alarmAt(Date.now() + Math.min(RETRY_MS.max, RETRY_MS.first * 2 ** (failures - 1)));
      return 'failed';
    } finally {
      this.#running = false;
    }
  }

  /**
   * A reader found no head in KV although KV was given one: KV lags, or the
   * write was lost. Writes it again, at most once a minute.
   */
  async repair(): Promise<void> {
    if (this.#sql.meta(META.headPublished) < this.#sql.headVersion()) {
      await this.publish();
      return;
    }
    // KV was given the head; say it again, in case the write was lost.
    const now = Date.now();
    if (now - this.#lastRepair < REPAIR_INTERVAL_MS) return;
    this.#lastRepair = now;
    this.#sql.setMeta(META.headPublished, 0);
    await this.publish();
  }

  /** Sets the alarm for the next thing due: publishing still pending, else the next cosignature or `expiry`. */
  async schedule(expiry: number | undefined): Promise<void> {
    const pending =
      this.#sql.meta(META.headPublished) < this.#sql.headVersion() ||
      this.#sql.meta(META.published) < this.#sql.headVersion();
    const signing = await this.#signing();
    const cosign = signing ? this.#sql.meta(META.cosignedAt) + COSIGN_INTERVAL_MS : undefined;
    const due = pending ? Date.now() : Math.min(expiry ?? Infinity, cosign ?? Infinity);
    if (Number.isFinite(due)) await this.#alarmAt(due);
  }

  /** The tiles and entry bundles the log's current size adds to what KV has (docs/log.md). */
  async #publishTiles(registry: string, head: number): Promise<void> {
    const tree = this.#log.tree(registry);
    const size = Math.min(tree.size, head);
    const published = this.#sql.meta(META.logPublished);
    if (size <= published) return;
    const { tiles, bundles } = newTiles(published, size);
    for (const tile of tiles) await this.#kv().put(kvKeys.logTile(registry, tilePath(tile)), tileBytes(tree, tile));
    for (const bundle of bundles) {
      const from = bundle.index * 256;
      const entries = this.#log.leaves(registry, from, from + bundle.width);
      await this.#kv().put(kvKeys.logTile(registry, bundlePath(bundle)), formatBundle(entries));
    }
    this.#sql.setMeta(META.logPublished, size);
  }

  /**
   * Signs and writes the checkpoint when the log KV has grew, or when the last
   * cosignature is older than the interval; at most once a second, as the head.
   * Returns how long to wait when the last write was too recent.
   */
  async #publishCheckpoint(registry: string): Promise<number> {
    const signing = await this.#signing();
    if (!signing) return 0;
    // The size KV's head names, whose tiles KV has (tiles are written before the head).
    const size = Math.min(this.#sql.meta(META.headPublished), this.#sql.meta(META.logPublished));
    if (size === 0) return 0;
    const now = Date.now();
    const grown = this.#sql.meta(META.checkpointSize) < size;
    const keyId = verifierKey(signing.key.publicKey).keyId;
    const rekeyed = this.#sql.meta(META.checkpointKeyId) !== keyId;
    if (!grown && !rekeyed && now - this.#sql.meta(META.cosignedAt) < COSIGN_INTERVAL_MS) return 0;
    const wait = this.#sql.meta(META.checkpointWrittenAt) + HEAD_WRITE_INTERVAL_MS - now;
    if (wait > 0) return wait;
    const root = this.#log.tree(registry).root(size);
    const note = await signCheckpoint(
      { origin: signing.origin(registry), size, root, extensions: [] },
      signing.key,
      now,
    );
    this.#sql.setMeta(META.checkpointWrittenAt, now);
    this.#sql.putText(textKeys.checkpoint, note);
    await this.#kv().put(kvKeys.logCheckpoint(registry), note);
    this.#sql.setMeta(META.checkpointSize, size);
    this.#sql.setMeta(META.cosignedAt, now);
    this.#sql.setMeta(META.checkpointKeyId, keyId);
    // Cosigned again from the alarm, so the served checkpoint never grows old.
    await this.#alarmAt(now + COSIGN_INTERVAL_MS);
    return 0;
  }

  /**
   * Makes sure the alarm fires by `time`. An alarm already due is the one running
   * now (it counts as set until its handler returns), so it does not count.
   */
  async #alarmAt(time: number): Promise<void> {
    const current = await this.#ctx.storage.getAlarm();
    if (current === null || current > time || current <= Date.now()) await this.#ctx.storage.setAlarm(time);
  }

  /**
   * Publishes versions after the last one KV has, up to `head` or until the run's KV writes
   * would run out (always at least one); returns the last version KV now has.
   */
  async #publishVersions(registry: string, head: number): Promise<number> {
    let written = 0;
    let version = this.#sql.meta(META.published) + 1;
    for (; version <= head; version++) {
      const record = this.#sql.recordText(version);
      const file = this.#sql.file(version);
      const parsed = this.#sql.record(version);
      if (record === undefined || file === undefined || parsed === undefined) {
        throw new Error(`version ${version} is missing from storage`);
      }
      const writes = versionWrites(parsed.entries);
      if (written > 0 && written + writes > this.#writesPerRun) break;
      written += writes;
      // The lookup form first, its manifest last: a reader that finds the manifest finds every shard.
      const sha256 = parsed.sha256;
      const form = deriveLookupForm(registry, version, sha256, this.#registryAt(version));
      for (const [shard, text] of form.shards.entries()) {
        await this.#kv().put(kvKeys.lookupShard(registry, version, shard), text);
      }
      for (const [block, text] of form.blocks.entries()) {
        await this.#kv().put(kvKeys.lookupBlock(registry, version, block), text);
      }
      await this.#kv().put(kvKeys.lookupManifest(registry, version), form.manifest);
      await this.#kv().put(kvKeys.versionFile(registry, version), file);
      await this.#kv().put(kvKeys.versionRecord(registry, version), record);
      this.#sql.setMeta(META.published, version);
    }
    return version - 1;
  }

  /** Writes the head unless KV has it; returns how long to wait when the last write was too recent. */
  async #publishHead(registry: string, head: number): Promise<number> {
    if (this.#sql.meta(META.headPublished) >= head) return 0;
    const wait = this.#sql.meta(META.headWrittenAt) + HEAD_WRITE_INTERVAL_MS - Date.now();
    if (wait > 0) return wait;
    const record = this.#sql.record(head);
    if (!record) throw new Error(`version ${head} is missing from storage`);
    const pointer = headOf(record, this.#sql.record(head - 1)?.created ?? null);
    this.#sql.setMeta(META.headWrittenAt, Date.now());
    await this.#kv().put(kvKeys.head(registry), JSON.stringify(pointer));
    this.#sql.setMeta(META.headPublished, head);
    return 0;
  }

  #registry(): string {
    const record = this.#sql.record(1);
    if (!record) throw new Error('the registry was never seeded');
    return record.registry;
  }
}
