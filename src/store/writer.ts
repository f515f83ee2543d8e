import { DurableObject } from 'cloudflare:workers';
import { putHead, putVersion } from './kv-writes.js';
import { HeadSchema, type Head } from './records.js';
import type { SeedVersion } from './seed.js';

interface WriterEnv {
  readonly REGISTRY_KV: KVNamespace;
}

const HEAD = 'head';
/** KV allows one write a second per key; re-asserting the head more often than this is pointless. */
const REPAIR_INTERVAL_MS = 60_000;

/**
 * The single writer of one registry (one object per registry name). Its own
 * storage holds the authoritative head; KV is the replica readers use. Every
 * change runs one at a time, writes the version before the head, and records
 * the head here last, so a failed KV write is redone by the next call.
 */
export class RegistryWriter extends DurableObject<WriterEnv> {
  #head: Head | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #lastRepair = 0;

  constructor(ctx: DurableObjectState, env: WriterEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const stored = await ctx.storage.get(HEAD);
      this.#head = stored === undefined ? undefined : HeadSchema.parse(stored);
    });
  }

  /**
   * The registry's head, creating version 1 from `seed` when the registry has
   * never been written. Readers call this only when KV has no head for them.
   */
  seed(seed: SeedVersion): Promise<Head> {
    return this.#serial(async () => {
      if (this.#head) {
        await this.#repairHead(seed.record.registry, this.#head);
        return this.#head;
      }
      const name = seed.record.registry;
      await putVersion(this.env.REGISTRY_KV, seed.record, seed.body);
      await putHead(this.env.REGISTRY_KV, name, seed.head);
      await this.ctx.storage.put(HEAD, seed.head);
      this.#head = seed.head;
      return seed.head;
    });
  }

  /**
   * A reader found no head in KV although one exists: KV lags, or a head write was
   * lost. Best effort: the reader has its answer from this object either way.
   */
  async #repairHead(name: string, head: Head): Promise<void> {
    const now = Date.now();
    if (now - this.#lastRepair < REPAIR_INTERVAL_MS) return;
    this.#lastRepair = now;
    try {
      await putHead(this.env.REGISTRY_KV, name, head);
    } catch (error) {
      console.error(`rewriting the KV head of registry '${name}' failed`, error);
    }
  }

  /** Input gates do not hold across KV calls, so writes are chained explicitly. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
