/**
 * What the readers of a user's files (flake.lock, a profile's manifest.json) share: JSON as
 * nlohmann::json sees it, Nix's `jsonToAttrs`, and the form refs are shown in.
 */
import type { AttrValue, Attrs, FlakeRef } from './attrs.js';
import { sortAttrs, withoutAttrs } from './attrs.js';
import { flakeRefToAttrs, flakeRefToString } from './flakeref.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * Far above any real lock file or manifest (a large NixOS configuration's lock is ~100 KB);
 * the HTTP layer caps bodies lower still. Counted in UTF-16 code units.
 */
export const MAX_DOCUMENT_LENGTH = 8 * 1024 * 1024;

export function isObject(j: Json | undefined): j is JsonObject {
  return typeof j === 'object' && j !== null && !Array.isArray(j);
}

/** nlohmann::json's type names, as its exception texts print them. */
export function typeName(j: Json | undefined): string {
  if (j === undefined || j === null) return 'null';
  if (Array.isArray(j)) return 'array';
  return typeof j === 'object' ? 'object' : typeof j;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * JSON text as nlohmann's parser reads it: an unpaired surrogate escape is an error there
 * (JSON.parse keeps it). Returns the reason on failure (`tooLarge` for text over
 * MAX_DOCUMENT_LENGTH, which is not parsed at all); the caller names the file.
 */
export function parseJsonText(text: string): { ok: true; json: Json } | { ok: false; reason: string; tooLarge?: true } {
  if (text.length > MAX_DOCUMENT_LENGTH)
    return { ok: false, reason: `it is longer than ${MAX_DOCUMENT_LENGTH} characters, the most read`, tooLarge: true };
  try {
    const json = JSON.parse(text, (key, value: unknown) => {
      if (LONE_SURROGATE.test(key) || (typeof value === 'string' && LONE_SURROGATE.test(value)))
        throw new SyntaxError('unpaired UTF-16 surrogate in a string');
      return value;
    }) as Json;
    return { ok: true, json };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

/**
 * Nix's `jsonToAttrs` (src/libfetchers/attrs.cc, 2.8 and current) on an object: strings,
 * booleans, and numbers read with `get<uint64_t>()`, which cuts a fraction off (`1.5` is 1), as
 * here. A negative number Nix wraps to 2^64 minus it (`-1` is 18446744073709551615), which no
 * JavaScript number holds exactly, nor one beyond 2^53-1: those are refused here, with `number`
 * set (Nix's own `unsupported input attribute type in lock file` is for a null, a list or an
 * object). Returns the offending key on failure.
 */
export function jsonToAttrs(j: JsonObject): { ok: true; attrs: Attrs } | { ok: false; key: string; number?: number } {
  const out: [string, AttrValue][] = [];
  for (const [key, value] of Object.entries(j)) {
    if (typeof value === 'string' || typeof value === 'boolean') out.push([key, value]);
    else if (typeof value === 'number' && value >= 0 && Number.isSafeInteger(Math.trunc(value)))
      out.push([key, Math.trunc(value)]);
    else if (typeof value === 'number') return { ok: false, key, number: value };
    else return { ok: false, key };
  }
  // fromEntries defines properties, so even a `__proto__` key stays data.
  return { ok: true, attrs: Object.fromEntries(out) };
}

/** A ref as the service shows one: the URL current Nix prints, the attributes `nix flake metadata --json` shows. */
export interface RefView {
  readonly url: string;
  /** Sorted as Nix prints them, `dir` included when set. */
  readonly attrs: Attrs;
  readonly dir?: string;
}

export function refView(ref: FlakeRef): RefView {
  return {
    url: flakeRefToString(ref),
    attrs: sortAttrs(flakeRefToAttrs(ref)),
    ...(ref.dir === '' ? {} : { dir: ref.dir }),
  };
}

/** The ref a view was made from (its attributes were validated when it was made). */
export function refOfView(view: RefView): FlakeRef {
  return { input: withoutAttrs(view.attrs, 'dir'), dir: view.dir ?? '' };
}
