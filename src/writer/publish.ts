import { kvKeys } from '../store/layout.js';
import { headOf } from './outcomes.js';
import type { WriterSql } from './sql.js';
import { META } from './tables.js';

/** KV takes at most one write a second to one key. */
const HEAD_WRITE_INTERVAL_MS = 1_000;
const RETRY_MS = { first: 1_000, max: 5 * 60_000 };
/** How often a reader's report of a missing KV head may make the writer write it again. */
const REPAIR_INTERVAL_MS = 60_000;

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
  #running = false;
  #lastRepair = 0;

  constructor(ctx: DurableObjectState, sql: WriterSql, kv: () => KVNamespace) {
    this.#ctx = ctx;
    this.#sql = sql;
    this.#kv = kv;
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
        await this.#publishVersions(registry, head);
        const wait = await this.#publishHead(registry, head);
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

  /** Sets the alarm for the next thing due: publishing still pending, else `expiry`. */
  async schedule(expiry: number | undefined): Promise<void> {
    const pending =
      this.#sql.meta(META.headPublished) < this.#sql.headVersion() ||
      this.#sql.meta(META.published) < this.#sql.headVersion();
    const due = pending ? Date.now() : expiry;
    if (due !== undefined) await this.#alarmAt(due);
  }

  /**
   * Makes sure the alarm fires by `time`. An alarm already due is the one running
   * now (it counts as set until its handler returns), so it does not count.
   */
  async #alarmAt(time: number): Promise<void> {
    const current = await this.#ctx.storage.getAlarm();
    if (current === null || current > time || current <= Date.now()) await this.#ctx.storage.setAlarm(time);
  }

  async #publishVersions(registry: string, head: number): Promise<void> {
    for (let version = this.#sql.meta(META.published) + 1; version <= head; version++) {
      const record = this.#sql.recordText(version);
      const file = this.#sql.file(version);
      if (record === undefined || file === undefined) throw new Error(`version ${version} is missing from storage`);
      await this.#kv().put(kvKeys.versionFile(registry, version), file);
      await this.#kv().put(kvKeys.versionRecord(registry, version), record);
      this.#sql.setMeta(META.published, version);
    }
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
