import { createApp } from './http/app.js';
import { localTrustedKeys } from './http/env.js';
import { NixError } from './nix/errors.js';
import { PolicyError } from './protocol/policy.js';
import { ConfigurationError, StorageError, writerFailure } from './store/errors.js';
import { prepareSeed, type EmbeddedRegistry, type SeedVersion } from './store/seed.js';
import { KvRegistryStore, type RegistryStore } from './store/store.js';
import { StoredVersion } from './store/version.js';

export { RegistryWriter } from './writer/writer.js';
export type { EmbeddedRegistry } from './store/seed.js';

/** KV is eventually consistent anyway (about 60 s); reusing a head this long costs nothing in freshness. */
const HEAD_TTL_MS = 30_000;

/** The embedded registries, each prepared as its version 1 once per isolate. */
export class EmbeddedSeeds {
  readonly names: readonly string[];
  readonly #sources: ReadonlyMap<string, EmbeddedRegistry>;
  // Settled values only: a promise kept here would die with the request that made it.
  readonly #prepared = new Map<string, SeedVersion>();

  constructor(embedded: readonly EmbeddedRegistry[]) {
    this.#sources = new Map(embedded.map((e) => [e.name, e]));
    this.names = [...this.#sources.keys()];
  }

  /**
   * Version 1 of `name`, its policy widened by `localKeys` (local development
   * only). Throws ConfigurationError when the embedded file or policy can never
   * be published: only a new deployment fixes that, never a retry.
   */
  get(name: string, localKeys: readonly string[] = []): SeedVersion {
    const key = `${name}\n${localKeys.join(' ')}`;
    const prepared = this.#prepared.get(key);
    if (prepared) return prepared;
    const source = this.#sources.get(name);
    if (!source) throw new ConfigurationError(name, `registry '${name}' is not embedded`);
    let seed: SeedVersion;
    try {
      seed = prepareSeed(source, localKeys);
    } catch (cause) {
      if (!(cause instanceof NixError || cause instanceof PolicyError)) throw cause;
      throw new ConfigurationError(name, configurationMessage(source, localKeys, cause), { cause });
    }
    this.#prepared.set(key, seed);
    return seed;
  }
}

/** Which file (or local setting) makes version 1 of `source` impossible, and why. */
function configurationMessage(source: EmbeddedRegistry, localKeys: readonly string[], cause: Error): string {
  if (cause instanceof PolicyError && localKeys.length > 0) {
    try {
      prepareSeed(source);
      return `DEV_TRUSTED_KEYS (.dev.vars) cannot join the policy of registry '${source.name}': ${cause.message}`;
    } catch {
      // The policy file is at fault on its own: say so below.
    }
  }
  const file = cause instanceof PolicyError ? `${source.name}.policy.json` : `${source.name}.json`;
  return `registries/${file} cannot be published: ${cause.message}; fix the file and deploy again`;
}

export interface StoreOptions {
  /** The KV namespace to read (defaults to the REGISTRY_KV binding). */
  readonly kv?: KVNamespace;
  readonly now?: () => number;
}

/** A store over the bindings; an empty store asks each registry's writer to seed version 1. */
export function createRegistryStore(env: Env, seeds: EmbeddedSeeds, options: StoreOptions = {}): RegistryStore {
  const localKeys = localTrustedKeys(env);
  const store: KvRegistryStore = new KvRegistryStore({
    kv: options.kv ?? env.REGISTRY_KV,
    names: seeds.names,
    headTtlMs: HEAD_TTL_MS,
    ...(options.now === undefined ? {} : { now: options.now }),
    seed: async (name) => {
      const seed = seeds.get(name, localKeys);
      let head;
      try {
        head = await env.REGISTRY_WRITER.get(env.REGISTRY_WRITER.idFromName(name)).seed(seed);
      } catch (cause) {
        throw writerFailure(name, cause);
      }
      if ('unpublished' in head) throw new StorageError(`registry '${name}': ${head.unpublished}`);
      // This isolate has version 1 at hand: it need not wait for KV to show it.
      if (head.sha256 === seed.record.sha256) store.learnVersion(StoredVersion.fromText(seed.record, seed.body));
      return head;
    },
  });
  return store;
}

/**
 * The Worker, serving `embedded` as the registries it starts with. The
 * production entry passes `registries/*.json`; the conformance suite passes the
 * registry it builds.
 */
export function createWorker(embedded: readonly EmbeddedRegistry[]): ExportedHandler<Env> {
  const seeds = new EmbeddedSeeds(embedded);
  // One store per isolate, so immutable versions stay in memory across requests.
  const stores = new WeakMap<KVNamespace, RegistryStore>();
  const app = createApp((env) => {
    let store = stores.get(env.REGISTRY_KV);
    if (!store) {
      store = createRegistryStore(env, seeds);
      stores.set(env.REGISTRY_KV, store);
    }
    return store;
  });
  return { fetch: (request, env, ctx) => app.fetch(request, env, ctx) };
}
