import { REGISTRY_NAME } from '../store/layout.js';
import type { RegistryStore, VersionLookup } from '../store/store.js';
import type { Head, VersionRecord } from '../store/records.js';
import type { StoredVersion } from '../store/version.js';
import { Problem } from './problem.js';

/** Cloudflare's limit on a request's URL (16 KB): longer ones are refused before any route runs. */
export const MAX_URL_LENGTH = 16 * 1024;

/** A version number in a URL: no sign, no leading zero, at most ten digits. */
export const VERSION = /^[1-9][0-9]{0,9}$/;

/** A registry name from a URL path, or 400. */
export function registryName(value: string): string {
  if (!REGISTRY_NAME.test(value)) {
    throw new Problem('invalid-request', `registry name: must be like "global" (a-z, 0-9, '-'), got '${value}'`);
  }
  return value;
}

/** A version number from a URL path, or 400. */
export function versionNumber(value: string): number {
  if (!VERSION.test(value)) {
    throw new Problem('invalid-request', `version: must be a positive whole number, got '${value}'`);
  }
  return Number(value);
}

/** The head of a hosted registry, or 404 unknown-registry. */
export async function hostedHead(store: RegistryStore, name: string): Promise<Head> {
  const head = await store.head(name);
  if (!head) throw new Problem('unknown-registry', `no registry named '${name}' is hosted here`);
  return head;
}

/** The newest version's record (no file read), or 404 unknown-registry. */
export async function latestRecord(store: RegistryStore, name: string): Promise<VersionRecord> {
  return pinnedRecord(store, name, (await hostedHead(store, name)).version);
}

/** The newest version with the head that named it. */
export async function latest(store: RegistryStore, name: string): Promise<{ version: StoredVersion; head: Head }> {
  const head = await hostedHead(store, name);
  return { version: await pinnedVersion(store, name, head.version), head };
}

/** A given version of a hosted registry, or 404 unknown-registry / unknown-version. */
export async function pinnedVersion(store: RegistryStore, name: string, n: number): Promise<StoredVersion> {
  return (await store.version(name, n)) ?? missing(store, name, n);
}

/** A given version for lookups (its lookup form, or its file when it has none); 404s like `pinnedVersion`. */
export async function pinnedLookup(store: RegistryStore, name: string, n: number): Promise<VersionLookup> {
  return (await store.lookup(name, n)) ?? missing(store, name, n);
}

/** A given version's record, without its file; 404s like `pinnedVersion`. */
export async function pinnedRecord(store: RegistryStore, name: string, n: number): Promise<VersionRecord> {
  return (await store.record(name, n)) ?? missing(store, name, n);
}

async function missing(store: RegistryStore, name: string, n: number): Promise<never> {
  const head = await hostedHead(store, name);
  throw new Problem('unknown-version', `registry '${name}' has no version ${n} (latest is ${head.version})`);
}

/**
 * The query of a request, checked against the parameters a route takes: an
 * unknown or repeated parameter is a 400 that names it, never silently dropped
 * (in `/resolve?ref=github:o/r?ref=x&rev=y` the `rev` is a parameter of its own,
 * not part of the ref). Values are percent-decoded only: `+` stays `+`, since
 * flake refs are full of it (`git+https:`) and form decoding (`URLSearchParams`,
 * Hono's query helpers) would turn it into a space. A page whose query a browser's form wrote
 * (`application/x-www-form-urlencoded`, where a space is `+` and `+` is %2B) reads it with
 * `{ form: true }`: `+` is a space there, and the rest is as strict.
 */
export function queryParams<K extends string, R extends string = never>(
  url: string,
  allowed: readonly K[],
  repeatable: readonly R[] = [],
  { form = false }: { readonly form?: boolean } = {},
): Partial<Record<K, string>> & Partial<Record<R, string[]>> {
  const start = url.indexOf('?');
  const found: Partial<Record<string, string>> = {};
  const repeated: Partial<Record<string, string[]>> = {};
  if (start < 0) return {};
  const names: readonly string[] = [...allowed, ...repeatable];
  const seen = new Set<string>();
  for (const pair of url.slice(start + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq), 'query parameter name', form);
    if (!names.includes(name)) {
      const takes =
        names.length === 0 ? 'takes no query parameters' : `takes only ${names.map((a) => `'${a}'`).join(', ')}`;
      const hint = name === 'rev' || name === 'ref' || name === 'dir' ? ` (inside a ref, write '&' as %26)` : '';
      throw new Problem('invalid-request', `unknown query parameter '${name}': this route ${takes}${hint}`, {
        parameter: name,
      });
    }
    const value = decode(eq < 0 ? '' : pair.slice(eq + 1), name, form, name);
    if ((repeatable as readonly string[]).includes(name)) {
      (repeated[name] ??= []).push(value);
      continue;
    }
    if (seen.has(name)) {
      throw new Problem('invalid-request', `query parameter '${name}' is given more than once`, { parameter: name });
    }
    seen.add(name);
    found[name] = value;
  }
  return { ...found, ...repeated } as Partial<Record<K, string>> & Partial<Record<R, string[]>>;
}

/** The first value of `name` as given, unchecked: what an error about the request should echo. */
export function firstQueryValue(url: string, name: string): string | undefined {
  const start = url.indexOf('?');
  if (start < 0) return undefined;
  for (const pair of url.slice(start + 1).split('&')) {
    const eq = pair.indexOf('=');
    if ((eq < 0 ? pair : pair.slice(0, eq)) !== name) continue;
    try {
      return decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Percent-decoded text; a value's error names its parameter (`parameter`), as every bad parameter's does. */
function decode(text: string, what: string, form: boolean, parameter?: string): string {
  try {
    return decodeURIComponent(form ? text.replace(/\+/g, ' ') : text);
  } catch {
    const named = parameter === undefined ? {} : { parameter };
    throw new Problem('invalid-request', `${what}: not valid percent-encoding (UTF-8 expected)`, named);
  }
}

/**
 * A whole number from `min` to `max` written in plain decimal digits: no sign,
 * no leading zero, no exponent, hex or spaces (`Number()` would take them all).
 */
export function decimalParam(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^[1-9][0-9]{0,9}$|^0$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    const range = min === max ? `${min}` : `a whole number from ${min} to ${max}`;
    throw new Problem('invalid-request', `${name}: must be ${range}, got '${value}'`, { parameter: name });
  }
  return n;
}
