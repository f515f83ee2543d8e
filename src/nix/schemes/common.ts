/**
 * What the input schemes share: the InputScheme shape (src/libfetchers/fetchers.hh), attribute
 * accessors with attrs.cc's error texts, and the ref/rev grammar (url-parts.hh, git-utils.cc).
 */
import type { Attrs } from '../attrs.js';
import { sortAttrs } from '../attrs.js';
import { NixError } from '../errors.js';
import type { ParsedURL } from '../url.js';

export interface InputScheme {
  readonly name: string;
  /** Attributes besides `type` that `Input::fromAttrs` lets through. */
  readonly allowedAttrs: ReadonlySet<string>;
  /** `inputFromURL`: undefined when the URL is not for this scheme. */
  fromURL(url: ParsedURL, requireTree: boolean): Attrs | undefined;
  /** `inputFromAttrs`: validates, returns the attributes Nix keeps. */
  fromAttrs(attrs: Attrs): Attrs;
  toURL(input: Attrs): ParsedURL;
  /** Missing: InputScheme::applyOverrides's default (any ref or rev is an error). */
  applyOverrides?(input: Attrs, ref: string | undefined, rev: string | undefined, show: (i: Attrs) => string): Attrs;
}

export const invalid = (message: string): NixError => new NixError('invalid-ref', message);

/** nlohmann's `dump()` of `attrsToJSON`: compact, keys in std::map order. */
export function attrsToJSON(attrs: Attrs): string {
  return JSON.stringify(sortAttrs(attrs));
}

export function maybeStr(attrs: Attrs, name: string): string | undefined {
  const v = attrs[name];
  if (v === undefined || typeof v === 'string') return v;
  throw invalid(`input attribute '${name}' is not a string ${attrsToJSON(attrs)}`);
}

export function requireStr(attrs: Attrs, name: string): string {
  const v = maybeStr(attrs, name);
  if (v === undefined) throw invalid(`input attribute '${name}' is missing`);
  return v;
}

export function maybeBool(attrs: Attrs, name: string): boolean | undefined {
  const v = attrs[name];
  if (v === undefined || typeof v === 'boolean') return v;
  throw invalid(`input attribute '${name}' is not a Boolean`);
}

export function maybeInt(attrs: Attrs, name: string): number | undefined {
  const v = attrs[name];
  if (v === undefined) return undefined;
  // Nix stores uint64; JSON numbers beyond 2^53 would silently lose digits here, so they are refused.
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  throw invalid(`input attribute '${name}' is not an integer`);
}

const UINT64_MAX = '18446744073709551615';

/**
 * An integer URL parameter (`revCount`, `lastModified`) as Nix reads it with
 * `string2Int<uint64_t>`: undefined when that fails (decimal digits only, at most 2^64-1; each
 * scheme decides what a failure means). Nix then holds any uint64; attributes here are
 * JavaScript numbers, so a value Nix reads but above 2^53-1 is refused with an error naming the
 * parameter rather than rounded. `url` is how the scheme's messages quote the URL.
 */
export function parseIntParam(value: string, name: string, url: () => string): number | undefined {
  if (!/^[0-9]+$/.test(value)) return undefined;
  const digits = value.replace(/^0+(?=.)/, '');
  if (digits.length > UINT64_MAX.length || (digits.length === UINT64_MAX.length && digits > UINT64_MAX))
    return undefined;
  const n = Number(digits);
  if (!Number.isSafeInteger(n))
    throw invalid(`${url()} has parameter '${name}' above ${Number.MAX_SAFE_INTEGER} (2^53-1), which is not supported`);
  return n;
}

/** Type checks of attributes whose type Nix fixes wherever they appear. */
const STRINGS = ['ref', 'rev', 'narHash', 'id', 'owner', 'repo', 'host', 'url', 'path', 'name', 'treeHash'];
const INTS = ['revCount', 'lastModified'];
const BOOLS = ['shallow', 'submodules', 'allRefs', 'lfs', 'exportIgnore', 'unpack', '__final'];
export function checkAttrTypes(attrs: Attrs): void {
  for (const n of STRINGS) maybeStr(attrs, n);
  for (const n of INTS) maybeInt(attrs, n);
  for (const n of BOOLS) maybeBool(attrs, n);
}

/** url-parts.hh `revRegexS`. */
export const REV_RE = /^[0-9a-fA-F]{40}$/;
/** url-parts.hh `refRegexS` (current: `@` and `+` allowed). */
export const REF_RE = /^[a-zA-Z0-9@][a-zA-Z0-9_./@+-]*$/;
/** flakeref.hh `flakeIdRegexS`. */
export const FLAKE_ID_RE = /^[a-zA-Z][a-zA-Z0-9_-]*$/;

/**
 * Stands in for `Hash::parseAny(rev, SHA1).gitRev()`. Only the base-16 form is accepted: Nix also
 * takes nix32, base64 and SRI SHA-1 hashes, which no flake reference or registry uses.
 */
export function parseRev(rev: string): string {
  if (!REV_RE.test(rev)) throw invalid(`hash '${rev}' has wrong length for hash algorithm 'sha1'`);
  return rev.toLowerCase();
}

/** ASCII controls, space, DEL, and the characters git forbids (libgit2 refs.c `is_valid_ref_char`). */
// eslint-disable-next-line no-control-regex
const BAD_REF_CHAR = /[\x00-\x20\x7f~^:\\?[*]/;

/** libgit2's `git_reference__normalize_name` in validation mode, ALLOW_ONELEVEL. */
function isValidReferenceName(name: string): boolean {
  if (name === '' || BAD_REF_CHAR.test(name) || name.includes('..') || name.includes('@{')) return false;
  const segments = name.split('/');
  for (const s of segments) if (s === '' || s.startsWith('.') || s.endsWith('.lock')) return false;
  if (name.endsWith('.')) return false;
  const allCaps = (s: string): boolean => /^[A-Z_]+$/.test(s) && !s.startsWith('_') && !s.endsWith('_');
  // One level: only HEAD-like names; several levels: the first may not look like one.
  return segments.length === 1 ? allCaps(name) : !allCaps(segments[0] as string);
}

/**
 * `isLegalRefName` (git-utils.cc): a valid reference, branch or tag name per libgit2, minus `@`
 * and DEL. A branch or tag name is valid when `refs/heads/NAME` / `refs/tags/NAME` is and it does
 * not start with `-` (the tag test accepts every name the branch test does, plus `HEAD`).
 */
export function isLegalRefName(name: string): boolean {
  if (name === '@' || name.includes('\x7f')) return false;
  return isValidReferenceName(name) || (!name.startsWith('-') && isValidReferenceName(`refs/tags/${name}`));
}
