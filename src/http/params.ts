import { z } from 'zod';
import { REGISTRY_NAME } from '../store/layout.js';
import type { RegistryStore } from '../store/store.js';
import type { VersionRecord } from '../store/records.js';
import type { StoredVersion } from '../store/version.js';
import { Problem } from './problem.js';

/** A version number in a URL: no sign, no leading zero, at most ten digits. */
export const VERSION = /^[1-9][0-9]{0,9}$/;

/** Parses a query or path value with a zod schema, answering 400 with zod's message on failure. */
export function parseParam<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const reason = result.error.issues[0]?.message ?? 'invalid value';
  throw new Problem('invalid-request', `${what}: ${reason}`);
}

export const versionNumber = z.string().regex(VERSION, 'must be a positive whole number').transform(Number);

export const registryName = z.string().regex(REGISTRY_NAME, 'must be a registry name like "global"');

/** The newest version of a hosted registry, or 404 unknown-registry. */
export async function latestVersion(store: RegistryStore, name: string): Promise<StoredVersion> {
  const head = await store.head(name);
  if (!head) throw new Problem('unknown-registry', `no registry named '${name}' is hosted here`);
  return pinnedVersion(store, name, head.version);
}

/** A given version of a hosted registry, or 404 unknown-registry / unknown-version. */
export async function pinnedVersion(store: RegistryStore, name: string, n: number): Promise<StoredVersion> {
  return (await store.version(name, n)) ?? missing(store, name, n);
}

/** A given version's record, without its file; 404s like `pinnedVersion`. */
export async function pinnedRecord(store: RegistryStore, name: string, n: number): Promise<VersionRecord> {
  return (await store.record(name, n)) ?? missing(store, name, n);
}

async function missing(store: RegistryStore, name: string, n: number): Promise<never> {
  const head = await store.head(name);
  if (!head) throw new Problem('unknown-registry', `no registry named '${name}' is hosted here`);
  throw new Problem('unknown-version', `registry '${name}' has no version ${n} (latest is ${head.version})`);
}

/**
 * A query parameter as typed, percent-decoded only: `+` stays `+`. Flake refs are
 * full of it (`git+https:`), and form decoding (`URLSearchParams`, Hono's query
 * helpers) would turn it into a space. The first occurrence wins.
 */
export function literalQueryParam(url: string, name: string): string | undefined {
  const start = url.indexOf('?');
  if (start < 0) return undefined;
  for (const pair of url.slice(start + 1).split('&')) {
    const eq = pair.indexOf('=');
    if ((eq < 0 ? pair : pair.slice(0, eq)) !== name) continue;
    try {
      return decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1));
    } catch {
      throw new Problem('invalid-request', `${name}: not valid percent-encoding (UTF-8 expected)`);
    }
  }
  return undefined;
}
