import { env } from 'cloudflare:workers';
import { sha256Hex } from '../../src/crypto/sha256.js';
import { createApp } from '../../src/http/app.js';
import { inputToURL } from '../../src/nix/input.js';
import { readRegistry, writeRegistry } from '../../src/nix/registry.js';
import { putHead, putVersion } from '../../src/store/kv-writes.js';
import { kvKeys } from '../../src/store/layout.js';
import type { VersionRecord } from '../../src/store/records.js';
import type { EmbeddedRegistry } from '../../src/store/seed.js';
import type { RegistryStore } from '../../src/store/store.js';
import { EmbeddedSeeds, createRegistryStore, type StoreOptions } from '../../src/worker.js';

export const ORIGIN = 'http://registry.test';

let counter = 0;
/** A registry name no other test uses, so Durable Object and KV state never leak between tests. */
export const uniqueName = (prefix = 'reg') => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

export interface TestService {
  readonly store: RegistryStore;
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** The app over real KV and Durable Objects, with its own store (own memory cache). */
export function serve(embedded: readonly EmbeddedRegistry[], options: StoreOptions = {}): TestService {
  const store = createRegistryStore(env, new EmbeddedSeeds(embedded), options);
  const app = createApp(() => store);
  return {
    store,
    fetch: async (path, init) => app.fetch(new Request(`${ORIGIN}${path}`, init), env),
  };
}

/** Writes version `version` of `registry` and moves the head to it, as the writer does. */
export async function publish(
  registry: string,
  version: number,
  file: unknown,
  created: string,
): Promise<VersionRecord> {
  const body = writeRegistry(readRegistry(JSON.stringify(file)));
  const sha256 = await sha256Hex(body);
  const parentRecord =
    version === 1
      ? null
      : await env.REGISTRY_KV.get<VersionRecord>(kvKeys.versionRecord(registry, version - 1), 'json');
  const parent = parentRecord?.sha256 ?? null;
  const entries = readRegistry(body).entries;
  const record: VersionRecord = {
    registry,
    version,
    sha256,
    parent,
    created,
    entries: entries.length,
    source: { kind: 'proposal', id: `test-${version}`, signatures: [] },
    changes: { added: entries.map((e) => inputToURL(e.from)), removed: [], changed: [], moved: [] },
  };
  await putVersion(env.REGISTRY_KV, record, body);
  await putHead(env.REGISTRY_KV, registry, { version, sha256, created });
  return record;
}

/** Counts every KV read made through it, and keeps the keys read. */
export function countingKv(kv: KVNamespace): { kv: KVNamespace; reads: () => number; keys: string[] } {
  const keys: string[] = [];
  const wrapped = new Proxy(kv, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop === 'get' || prop === 'getWithMetadata' || prop === 'list') keys.push(String(args[0]));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { kv: wrapped, reads: () => keys.length, keys };
}

/** A KV namespace whose every call fails, as during a storage outage. */
export function failingKv(): KVNamespace {
  return new Proxy({} as KVNamespace, {
    get: () => () => Promise.reject(new Error('KV is unavailable')),
  });
}
