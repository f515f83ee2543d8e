/**
 * Reading a profile's `manifest.json` as `nix profile` does (`ProfileManifest`'s reader in
 * src/nix/profile.cc). Versions:
 * - 1: the element's locked ref is `uri`, its original `originalUri`.
 * - 2: `url` and `originalUrl`. Nix 2.8 writes 2 with `storePaths`, `active`, and for flake
 *   elements `originalUrl`, `url`, `attrPath`; Nix 2.9 added `priority` and `outputs`
 *   (null for the default outputs, a list of names, `["*"]` for all).
 * - 3 (Nix 2.20): as 2, but `elements` is an object keyed by element name.
 * Nix 2.8 reads 1 and 2, current Nix 1 to 3; both iterate `elements` as a list or an object
 * in any version, and current Nix takes an object's keys as names. An element with no (or
 * an empty) `url` was not installed from a flake: it has only store paths.
 *
 * Kept as current Nix keeps it: elements sorted by name (a std::map). Nix 2.8 kept them
 * in file order and numbered them; `index` is that place.
 */
import { compareKeys } from './attrs.js';
import type { Json, JsonObject, RefView } from './document.js';
import { isObject, parseJsonText, refView, typeName } from './document.js';
import { NixError } from './errors.js';
import { parseFlakeRef } from './flakeref.js';
import { getRev } from './input.js';
import { elementNameCandidate, uniqueName } from './profile-name.js';

export const MANIFEST_VERSIONS: readonly number[] = [1, 2, 3];
/** Elements in one manifest; a well-used profile has a few dozen. */
export const MAX_PROFILE_ELEMENTS = 5_000;
/** Store paths of one element (one per output). */
export const MAX_ELEMENT_STORE_PATHS = 1_000;
/** `ProfileElement::priority`'s default. */
export const DEFAULT_PRIORITY = 5;

export type ManifestErrorCode = 'not-json' | 'not-object' | 'unsupported-version' | 'invalid-element' | 'too-large';

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  constructor(
    readonly code: ManifestErrorCode,
    message: string,
    /** The element's key (version 3) or place in the file. */
    readonly element?: string,
  ) {
    super(message);
  }
}

export interface ProfileSource {
  /** The ref it was installed from, which `nix profile upgrade` resolves again. */
  readonly original: RefView;
  /** The ref it was locked to. */
  readonly locked: RefView;
  readonly attrPath: string;
  /** `null` for the default outputs, `["*"]` for all. Nix 2.8 does not record them. */
  readonly outputs: readonly string[] | null;
  readonly indirect: boolean;
  /** The original names a rev (Nix 2.8 never upgrades such an element; current Nix does). */
  readonly pinsRev: boolean;
}

export interface ProfileElement {
  readonly name: string;
  /** The element's place in the file (key order for an object). */
  readonly index: number;
  readonly storePaths: readonly string[];
  readonly active: boolean;
  readonly priority: number;
  /** Absent for an element not installed from a flake. */
  readonly source?: ProfileSource;
}

export interface ProfileManifest {
  readonly version: number;
  readonly elements: readonly ProfileElement[];
}

function fail(code: ManifestErrorCode, message: string, element?: string): never {
  throw new ManifestError(code, message, element);
}

/** `parseStorePath`'s checks on the base name (hash part, then name); any absolute store directory. */
const STORE_PATH = /^\/(?:[^/\0]+\/)*[0123456789abcdfghijklmnpqrsvwxyz]{32}-(?!\.)[A-Za-z0-9+\-._?=]{1,211}$/;

interface Keys {
  readonly url: 'uri' | 'url';
  readonly original: 'originalUri' | 'originalUrl';
}

function readRef(e: JsonObject, key: string, where: string, label: string): RefView {
  const text = e[key];
  if (typeof text !== 'string') fail('invalid-element', `${where}: '${key}' is ${typeName(text)}, not a string`, label);
  try {
    return refView(parseFlakeRef(text));
  } catch (err) {
    if (err instanceof NixError) fail('invalid-element', `${where}: '${key}': ${err.message}`, label);
    throw err;
  }
}

function readOutputs(v: Json | undefined, where: string, label: string): readonly string[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((o) => typeof o === 'string') || v.length > MAX_ELEMENT_STORE_PATHS)
    fail('invalid-element', `${where}: 'outputs' is not null or a list of output names`, label);
  // A std::set<std::string>.
  return [...new Set(v)].sort(compareKeys);
}

function readSource(e: JsonObject, keys: Keys, where: string, label: string): ProfileSource {
  const original = readRef(e, keys.original, where, label);
  const locked = readRef(e, keys.url, where, label);
  const attrPath = e['attrPath'];
  if (typeof attrPath !== 'string')
    fail('invalid-element', `${where}: 'attrPath' is ${typeName(attrPath)}, not a string`, label);
  return {
    original,
    locked,
    attrPath,
    // Read in every version, as current Nix does; only 2.9 and later write it.
    outputs: readOutputs(e['outputs'], where, label),
    indirect: original.attrs['type'] === 'indirect',
    pinsRev: getRev(original.attrs) !== undefined,
  };
}

function readElement(e: Json | undefined, keys: Keys, label: string): Omit<ProfileElement, 'name' | 'index'> {
  const where = `profile manifest element ${label}`;
  if (!isObject(e)) return fail('invalid-element', `${where} is ${typeName(e)}, not an object`, label);
  const paths = e['storePaths'] ?? [];
  if (!Array.isArray(paths) || paths.length > MAX_ELEMENT_STORE_PATHS)
    fail('invalid-element', `${where}: 'storePaths' is not a list of at most ${MAX_ELEMENT_STORE_PATHS} paths`, label);
  for (const p of paths)
    if (typeof p !== 'string' || !STORE_PATH.test(p))
      fail('invalid-element', `${where}: ${JSON.stringify(p)} is not a store path`, label);
  const active = e['active'];
  if (typeof active !== 'boolean')
    fail('invalid-element', `${where}: 'active' is ${typeName(active)}, not a Boolean`, label);
  const priority = e['priority'] ?? DEFAULT_PRIORITY;
  if (typeof priority !== 'number' || !Number.isSafeInteger(priority))
    fail('invalid-element', `${where}: 'priority' is not an integer`, label);
  // `e.value(sUrl, "")`: a url of another type is an error, an empty one means no source.
  const url = e[keys.url] ?? '';
  if (typeof url !== 'string')
    fail('invalid-element', `${where}: '${keys.url}' is ${typeName(url)}, not a string`, label);
  const element = { storePaths: paths as string[], active, priority };
  return url === '' ? element : { ...element, source: readSource(e, keys, where, label) };
}

/** Reads parsed JSON. `path` is the file name messages show. */
export function readProfileManifest(json: Json, path = 'manifest.json'): ProfileManifest {
  if (!isObject(json)) return fail('not-object', `profile manifest '${path}' is ${typeName(json)}, not an object`);
  const version = json['version'] ?? 0;
  if (typeof version !== 'number' || !MANIFEST_VERSIONS.includes(version))
    fail('unsupported-version', `profile manifest '${path}' has unsupported version ${JSON.stringify(version)}`);
  const keys: Keys = version === 1 ? { url: 'uri', original: 'originalUri' } : { url: 'url', original: 'originalUrl' };
  const raw = json['elements'] ?? null;
  if (raw !== null && typeof raw !== 'object')
    fail('invalid-element', `profile manifest '${path}': 'elements' is ${typeName(raw)}, not a list or an object`);
  const keyed = isObject(raw);
  const listed: [string | undefined, Json | undefined][] =
    raw === null
      ? []
      : keyed
        ? Object.keys(raw)
            .sort(compareKeys)
            .map((k) => [k, raw[k]])
        : raw.map((e) => [undefined, e]);
  if (listed.length > MAX_PROFILE_ELEMENTS)
    fail(
      'too-large',
      `profile manifest '${path}' has ${listed.length} elements; at most ${MAX_PROFILE_ELEMENTS} are read`,
    );

  const taken = new Set<string>();
  const elements: ProfileElement[] = listed.map(([key, e], index) => {
    const label = key === undefined ? `${index}` : `'${key}'`;
    const element = readElement(e, keys, label);
    const { source } = element;
    const named = source && { originalUrl: source.original.url, attrPath: source.attrPath, outputs: source.outputs };
    const name = uniqueName(key ?? elementNameCandidate(named, element.storePaths), taken);
    taken.add(name);
    return { name, index, ...element };
  });
  elements.sort((a, b) => compareKeys(a.name, b.name));
  return { version, elements };
}

/** Reads a manifest's text: not JSON is a `not-json` error naming the parser's reason, text over the cap `too-large`. */
export function readProfileManifestText(text: string, path = 'manifest.json'): ProfileManifest {
  const parsed = parseJsonText(text);
  if (!parsed.ok && parsed.tooLarge === true) return fail('too-large', `profile manifest '${path}': ${parsed.reason}`);
  if (!parsed.ok) return fail('not-json', `could not parse '${path}': ${parsed.reason}`);
  return readProfileManifest(parsed.json, path);
}
