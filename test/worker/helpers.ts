import { env, exports } from 'cloudflare:workers';
import { checkAnswer } from '../support/contract.js';
import { sha256HexSync } from '../../src/crypto/sha256.js';
import { createApp } from '../../src/http/app.js';
import { diffRegistries } from '../../src/nix/diff.js';
import { readRegistry, writeRegistry } from '../../src/nix/registry.js';
import { recordText, versionRecordSchema, type VersionRecord } from '../../src/protocol/record.js';
import { nextVersion } from '../../src/protocol/versions.js';
import { proposalBytes } from '../../src/protocol/signing.js';
import { kvKeys } from '../../src/store/layout.js';
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

/**
 * The app over real KV and Durable Objects, with its own store (own memory cache).
 * `vars` adds variables to the bindings, as `.dev.vars` would; `origin` is where requests go.
 */
export function serve(
  embedded: readonly EmbeddedRegistry[],
  options: StoreOptions & { vars?: Record<string, string>; origin?: string } = {},
): TestService {
  const bindings = { ...env, ...options.vars } as Env;
  const store = createRegistryStore(bindings, new EmbeddedSeeds(embedded), options);
  const app = createApp(() => store);
  return {
    store,
    fetch: async (path, init) => {
      const request = new Request(`${options.origin ?? ORIGIN}${path}`, init);
      const { method, url } = request;
      const response = await app.fetch(request, bindings);
      await checkAnswer(method, url, response);
      return response;
    },
  };
}

/**
 * Makes version `version` of `registry` a whole-file change to `file` and moves
 * the KV head to it, bypassing the writer: for read-path tests that need history
 * fast. The record is built by the writer's own code (nextVersion); it carries
 * no signatures, so it would not pass the history verifier. `message` is stored
 * as given, unchecked: what older versions of the service accepted.
 */
export async function publish(
  registry: string,
  version: number,
  file: unknown,
  created: string,
  message = `test version ${version}`,
): Promise<VersionRecord> {
  const parentText = await env.REGISTRY_KV.get(kvKeys.versionRecord(registry, version - 1));
  const parentFile = await env.REGISTRY_KV.get(kvKeys.versionFile(registry, version - 1));
  if (parentText === null || parentFile === null) throw new Error(`publish: ${registry}@${version - 1} is not in KV`);
  const parent = versionRecordSchema.parse(JSON.parse(parentText));
  const next = readRegistry(JSON.stringify(file));
  const proposal = {
    registry,
    base: version - 1,
    changes: [{ op: 'file' as const, file: JSON.parse(writeRegistry(next)) as { version: 2 } }],
    message,
    created,
    expires: new Date(Date.parse(created) + 86_400_000).toISOString(),
  };
  const { record, body } = nextVersion({
    parent,
    parentHash: sha256HexSync(parentText),
    policySha256: parent.policy,
    id: sha256HexSync(proposalBytes(proposal)),
    proposal,
    signatures: [],
    registry: next,
    summary: diffRegistries(readRegistry(parentFile), next).summary,
    created,
  });
  await env.REGISTRY_KV.put(kvKeys.versionFile(registry, version), body);
  await env.REGISTRY_KV.put(kvKeys.versionRecord(registry, version), recordText(record));
  await env.REGISTRY_KV.put(kvKeys.head(registry), JSON.stringify({ version, sha256: record.sha256, created }));
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

/** A request to the test entry (worker.ts) as the platform sends it, its answer checked against the API contract. */
export async function fetchWorker(path: string, init?: RequestInit): Promise<Response> {
  const request = new Request(`http://localhost${path}`, init);
  const { method, url } = request;
  const response = await exports.default.fetch(request);
  await checkAnswer(method, url, response);
  return response;
}
