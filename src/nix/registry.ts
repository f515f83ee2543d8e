import type { AttrValue, Attrs } from './attrs.js';
import { compareKeys } from './attrs.js';
import { NixError } from './errors.js';
import { MAX_FLAKE_REF_LENGTH } from './flakeref.js';
import { inputFromAttrs, inputToURL } from './input.js';
import { firstSchemaProblem } from './registry-schema.js';

/**
 * Reading and writing flake registry files, after Nix's `Registry::read` and
 * `Registry::write` (src/libfetchers/registry.cc). Nix walks the parsed JSON one
 * entry at a time and, on the first problem, prints a warning and keeps the
 * entries read so far; `readNix` below reproduces that walk and both public
 * readers are built on it.
 */

export interface RegistryEntry {
  readonly from: Attrs;
  /** The target without `dir`. */
  readonly to: Attrs;
  /** `to.dir` in the file: Nix keeps it apart as the entry's extra attributes. */
  readonly dir?: string;
  readonly exact: boolean;
}

export interface Registry {
  readonly entries: readonly RegistryEntry[];
}

/** Where Nix's walk stopped. `parse` problems come from nlohmann::json, `read` ones from Nix. */
interface Problem {
  readonly catcher: 'parse' | 'read';
  readonly text: string;
  readonly entry?: number;
  readonly from?: unknown;
}

interface Walk {
  readonly entries: RegistryEntry[];
  readonly problem?: Problem;
  readonly json?: Json;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** nlohmann::json's type names, as its exception texts print them. */
function typeName(j: Json): string {
  if (j === null) return 'null';
  if (Array.isArray(j)) return 'array';
  return typeof j === 'object' ? 'object' : typeof j;
}

function isObject(j: Json): j is { [key: string]: Json } {
  return typeof j === 'object' && j !== null && !Array.isArray(j);
}

/**
 * nlohmann's `items()`/range-for: an object's members in key order, an array's
 * elements keyed by index, nothing for null, a primitive as itself.
 */
function items(j: Json): [string, Json][] {
  if (j === null) return [];
  if (Array.isArray(j)) return j.map((v, i) => [String(i), v]);
  if (isObject(j)) return Object.entries(j).sort(([a], [b]) => compareKeys(a, b));
  return [['', j]];
}

class WalkError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.text);
  }
}

/**
 * Nix's `jsonToAttrs` (src/libfetchers/attrs.cc). A number is read with
 * `get<uint64_t>()`, which truncates fractions; a negative one would wrap to a
 * huge value that JavaScript cannot hold, so it is refused here instead.
 */
function jsonToAttrs(j: Json, entry: number, from: unknown): Attrs {
  const out: [string, AttrValue][] = [];
  for (const [key, value] of items(j)) {
    if (typeof value === 'number' && value >= 0) out.push([key, Math.trunc(value)]);
    else if (typeof value === 'string' || typeof value === 'boolean') out.push([key, value]);
    else {
      const text = 'unsupported input attribute type in lock file';
      throw new WalkError({ catcher: 'read', text, entry, from });
    }
  }
  return Object.fromEntries(out);
}

function validateInput(attrs: Attrs, entry: number, from: unknown): Attrs {
  try {
    return inputFromAttrs(attrs);
  } catch (e) {
    if (e instanceof NixError) throw new WalkError({ catcher: 'read', text: e.message, entry, from });
    throw e;
  }
}

/** One entry, evaluated in the order of Nix's aggregate initialiser: to's attrs, from, to, exact. */
function readEntry(item: Json, index: number): RegistryEntry {
  if (item !== null && !isObject(item)) {
    const text = `[json.exception.type_error.305] cannot use operator[] with a string argument with ${typeName(item)}`;
    throw new WalkError({ catcher: 'parse', text, entry: index });
  }
  const raw = item ?? {};
  const from = raw['from'] ?? null;
  const toAttrs: Record<string, AttrValue> = { ...jsonToAttrs(raw['to'] ?? null, index, from) };
  const dir = toAttrs['dir'];
  delete toAttrs['dir'];
  const fromInput = validateInput(jsonToAttrs(from, index, from), index, from);
  const to = validateInput(toAttrs, index, fromInput);
  const exact = raw['exact'];
  if (exact !== undefined && typeof exact !== 'boolean') {
    const text = `[json.exception.type_error.302] type must be boolean, but is ${typeName(exact)}`;
    throw new WalkError({ catcher: 'parse', text, entry: index, from: fromInput });
  }
  if (dir !== undefined && typeof dir !== 'string') {
    // Nix keeps such an entry and fails only when a lookup uses it
    // (maybeGetStrAttr in FlakeRef::resolve); the entry type has no room for it.
    const text = "input attribute 'dir' is not a string";
    throw new WalkError({ catcher: 'read', text, entry: index, from: fromInput });
  }
  return { from: fromInput, to, ...(dir === undefined ? {} : { dir }), exact: exact === true };
}

/** nlohmann's `json.value("version", 0)` read as an int. */
function readVersion(json: { [key: string]: Json }): number {
  const v = json['version'];
  if (v === undefined) return 0;
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new WalkError({
    catcher: 'parse',
    text: `[json.exception.type_error.302] type must be number, but is ${typeName(v)}`,
  });
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** nlohmann's parser rejects an unpaired surrogate (`"\\ud800"`); JSON.parse keeps it. */
function refuseLoneSurrogates(key: string, value: unknown): unknown {
  if (LONE_SURROGATE.test(key) || (typeof value === 'string' && LONE_SURROGATE.test(value))) {
    throw new SyntaxError('unpaired UTF-16 surrogate in a string');
  }
  return value;
}

/**
 * A text in which no string can hold a surrogate: none raw, none escaped. Such a text is
 * parsed without the reviver, which costs JSON.parse most of its speed (a file written by
 * the service escapes nothing there, so this is every stored version).
 */
const MAY_HOLD_SURROGATE = /\\u[dD][89a-fA-F]|[\uD800-\uDFFF]/;

function readNix(text: string, path: string): Walk {
  const entries: RegistryEntry[] = [];
  try {
    let json: Json;
    try {
      json = (MAY_HOLD_SURROGATE.test(text) ? JSON.parse(text, refuseLoneSurrogates) : JSON.parse(text)) as Json;
    } catch (e) {
      throw new WalkError({ catcher: 'parse', text: `invalid JSON: ${(e as Error).message}` });
    }
    if (!isObject(json)) {
      throw new WalkError({
        catcher: 'parse',
        text: `[json.exception.type_error.306] cannot use value() with ${typeName(json)}`,
      });
    }
    const version = readVersion(json);
    if (version !== 2) {
      throw new WalkError({ catcher: 'read', text: `flake registry '${path}' has unsupported version ${version}` });
    }
    items(json['flakes'] ?? null).forEach(([, item], index) => entries.push(readEntry(item, index)));
    return { entries, json };
  } catch (e) {
    if (e instanceof WalkError) return { entries, problem: e.problem };
    throw e;
  }
}

function describeFrom(from: unknown): string {
  if (from === undefined || from === null) return 'missing';
  try {
    return `'${inputToURL(from as Attrs)}'`;
  } catch {
    return JSON.stringify(from);
  }
}

function entryMessage(entry: number | undefined, from: unknown, text: string): string {
  if (entry === undefined) return `invalid flake registry: ${text}`;
  return `invalid flake registry entry ${entry} (from ${describeFrom(from)}): ${text}`;
}

/**
 * Reads a registry exactly as Nix does: the entries before the first bad one,
 * and the warning Nix prints (2.8 puts `error: ` before the texts of its own
 * errors). `path` stands for the file name Nix would show.
 */
export function readRegistryAsNix(
  text: string,
  path = 'flake-registry.json',
): { registry: Registry; warnings: string[] } {
  const { entries, problem } = readNix(text, path);
  const warnings: string[] = [];
  if (problem !== undefined) {
    const verb = problem.catcher === 'parse' ? 'parse' : 'read';
    const prefix = problem.catcher === 'read' ? 'error: ' : '';
    warnings.push(`cannot ${verb} flake registry '${path}': ${prefix}${problem.text}`);
  }
  return { registry: { entries }, warnings };
}

/**
 * Reads a registry the service is going to publish. Anything that would make
 * Nix warn or drop entries throws, naming the entry; so do shapes Nix happens
 * to tolerate (see registry-schema.ts), so that what is published reads the
 * same everywhere.
 */
export function readRegistry(text: string, path = 'flake-registry.json'): Registry {
  const { entries, problem, json } = readNix(text, path);
  if (problem !== undefined) {
    throw new NixError('invalid-registry', entryMessage(problem.entry, problem.from, problem.text));
  }
  const shape = firstSchemaProblem(json);
  if (shape !== undefined) {
    const where = shape.path === '' ? '' : `'${shape.path}': `;
    const from = shape.entry === undefined ? undefined : entries[shape.entry]?.from;
    throw new NixError('invalid-registry', entryMessage(shape.entry, from, `${where}${shape.message}`));
  }
  entries.forEach(checkPrintable);
  return { entries };
}

/**
 * Nix reads a `tarball` or `file` target without parsing its URL and fails only
 * when it prints or fetches it: `nix registry list` would stop at such an entry,
 * and every lookup through it would fail. Every `from` and `to` published must
 * therefore print as Nix prints inputs (`Input::to_string`).
 */
function checkPrintable(entry: RegistryEntry, index: number): void {
  for (const [side, attrs] of [
    ['from', entry.from],
    ['to', entry.to],
  ] as const) {
    let url: string;
    try {
      url = inputToURL(attrs);
    } catch (e) {
      if (!(e instanceof NixError)) throw e;
      const text = `its '${side}' cannot be written as a flake reference: ${e.message}`;
      throw new NixError('invalid-registry', entryMessage(index, entry.from, text));
    }
    // A `from` no ref can be written for is an entry nobody can ask for.
    if (side === 'from' && url.length > MAX_FLAKE_REF_LENGTH) {
      const text = `its 'from' is ${url.length} characters as a flake reference, longer than the ${MAX_FLAKE_REF_LENGTH} a lookup takes`;
      throw new NixError('invalid-registry', `invalid flake registry entry ${index}: ${text}`);
    }
  }
}

/**
 * An object with its keys inserted in std::map order. JSON.stringify follows
 * insertion order except for integer-like keys, which JavaScript always lists
 * first; input attributes never have such names (every scheme allows a fixed
 * set), and `sorted` reports one so the caller can refuse rather than misorder.
 */
function sorted(attrs: Attrs): Attrs {
  const keys = Object.keys(attrs).sort(compareKeys);
  const numeric = keys.find((key) => /^\d+$/.test(key));
  if (numeric !== undefined) {
    throw new NixError('invalid-registry', `input attribute '${numeric}' cannot be written in order`);
  }
  // fromEntries defines properties, so even a `__proto__` key stays data.
  return Object.fromEntries(keys.map((key) => [key, attrs[key] as AttrValue]));
}

/**
 * The bytes `nix registry add` writes (`Registry::write`: nlohmann's
 * `dump(2)` of std::map-ordered objects, no trailing newline, `exact` only
 * when true, extra attributes merged back into `to`, `"flakes": null` when
 * empty). JSON.stringify with a 2-space indent prints exactly what dump(2)
 * does: same separators, `[]`/`{}` when empty, control characters as \u00xx,
 * everything else raw. Deterministic, so a published version's hash never changes.
 *
 * Each entry's text is memoised per entry object: versions share their
 * unchanged entries, so writing a new version of a large registry prints only
 * the entries a change made. An entry sits two levels deep, so its own
 * dump(2) is the same text with four more spaces after every line break
 * (JSON escapes line breaks inside strings, so every one is structural).
 */
export function writeRegistry(registry: Registry): string {
  // Nix's array starts as a null json and only becomes [] on the first entry.
  if (registry.entries.length === 0) return '{\n  "flakes": null,\n  "version": 2\n}';
  // One join, not a chain of concatenations: the result is one flat string,
  // which the UTF-8 encoder for the version's hash reads without flattening.
  return `{\n  "flakes": [\n    ${registry.entries.map(entryText).join(',\n    ')}\n  ],\n  "version": 2\n}`;
}

/** Whether `text` is exactly `writeRegistry(registry)`, compared in place rather than by writing it whole. */
export function isWrittenAs(registry: Registry, text: string): boolean {
  if (registry.entries.length === 0) return text === writeRegistry(registry);
  const head = '{\n  "flakes": [\n    ';
  const tail = '\n  ],\n  "version": 2\n}';
  if (!text.startsWith(head) || !text.endsWith(tail)) return false;
  let at = head.length;
  for (const [i, entry] of registry.entries.entries()) {
    if (i > 0) {
      if (!text.startsWith(',\n    ', at)) return false;
      at += 6;
    }
    const written = entryText(entry);
    if (!text.startsWith(written, at)) return false;
    at += written.length;
  }
  return at === text.length - tail.length;
}

const entryTexts = new WeakMap<RegistryEntry, string>();

function entryText(e: RegistryEntry): string {
  let text = entryTexts.get(e);
  if (text === undefined) {
    const json = {
      ...(e.exact ? { exact: true } : {}),
      from: sorted(e.from),
      to: sorted(e.dir === undefined ? e.to : { ...e.to, dir: e.dir }),
    };
    // split and join, not replaceAll: join makes one flat string, which a file's join copies
    // at once; replaceAll's result is a rope that every later join walks again (4x slower).
    text = JSON.stringify(json, null, 2).split('\n').join('\n    ');
    entryTexts.set(e, text);
  }
  return text;
}
