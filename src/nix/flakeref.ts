/**
 * Flake references: `parseFlakeRef` and `FlakeRef::to_string` of current Nix
 * (src/libflake/flakeref.cc), for a service that has no working directory.
 *
 * Differences from Nix 2.8 (the conformance oracle) that this module follows current Nix on:
 * - Shorthand refs (`id/ref`) also allow `@` and `+`, and every Git ref is checked with git's
 *   ref-name rules (libgit2): `a..b`, `foo.lock`, `x@{y` are refused; 2.8 only had a regex.
 * - Error texts of `flake:`/shorthand refs quote the re-printed `flake:…` URL, not the input text.
 * - Path segments of `flake:`/`github:`… URLs are percent-decoded (`github:o/r/a%2Fb` has ref
 *   `a/b`); 2.8 took them raw.
 * - Printing: query values keep only unreserved characters and `:@/?`, the rest as uppercase
 *   `%XX` (2.8: kept `!$&'()*+,;=`, escaped `/` and `?`, lowercase hex); query keys are decoded
 *   and re-encoded (2.8: taken raw). Path segments are percent-encoded one by one keeping `:@`,
 *   so a ref with `/` prints as `github:o/r/release%2F24.05` and `+` in a URL path as `%2B`.
 * - github/gitlab/sourcehut: unknown query parameters are an error, `narHash` is accepted and
 *   printed, `host` is printed (`?host=`) and may contain `-`, refs use git's rules, and the
 *   ref-and-rev error reads `input {json} contains both a commit hash ('REV') and a branch/tag
 *   name ('REF')` (2.8: `URL '…' contains both a commit hash and a branch/tag name REF REV`).
 * - git: any `git+X` scheme (2.8: http, https, ssh, file); parameters `allRefs`, `lfs`,
 *   `exportIgnore` (`allRefs` is never printed); `url` normalised (an absolute path becomes
 *   `file://…`, `host:path` becomes `ssh://host/path`).
 * - tarballs: every plain http(s)/file URL is a tarball (2.8: only archive suffixes; other URLs
 *   were `input '…' is unsupported`); `name`/`unpack` parameters are dropped from the URL.
 * - Bare absolute paths keep their query as `path:` parameters (2.8 folded `?dir=` into the
 *   path and dropped the rest); unknown ones are refused like on `path:` URLs.
 * - `input 'file+git:…' is unsupported; did you mean 'git+file' …` hint.
 *
 * Deliberate departures from current Nix (a service without a cwd):
 * - A bare path is never resolved against a directory nor searched upwards for flake.nix: an
 *   absolute path is taken as `path:/abs/path`, a relative one is refused.
 * - Current Nix swallows a BadURL raised inside a scheme (`github:` ref and rev together, a bad
 *   Git ref, …) and retries the text as a path, which then fails with a cwd-dependent message.
 *   Here the scheme's own message is reported, as 2.8 did. Likewise a string that starts with a
 *   scheme but is not a valid URL gets the URL error, not "is not an absolute path".
 * - Revs are kept lowercase in attributes on every type (current Nix keeps the case given in
 *   github/git attributes and lowercases only when printing); only 40-hex revs are accepted.
 * - Percent-escapes that decode to invalid UTF-8 are refused; refs over 4096 characters too.
 * - `revCount`/`lastModified` parameters above 2^53-1 are refused on every scheme (Nix: uint64).
 * - `narHash` is passed through and printed as given (Nix parses it as SRI SHA-256, prints SRI).
 * - URL parse errors cannot reproduce boost::urls' own reason texts.
 */
import type { Attrs, FlakeRef } from './attrs.js';
import { withoutAttrs } from './attrs.js';
import { NixError } from './errors.js';
import { inputFromAttrs, inputFromParsedURL, inputToParsedURL } from './input.js';
import { maybeStr } from './schemes/common.js';
import type { ParsedURL } from './url.js';
import { BadURLError, decodeQuery, parseURL, pathToUrlPath, percentDecode, urlToString } from './url.js';

export const MAX_FLAKE_REF_LENGTH = 4096;

/** `ID(/(REV|REF(/REV)?))?(#FRAGMENT)?`: REV is a subset of REF here, so REF alone suffices. */
const SHORTHAND_RE =
  /^([a-zA-Z][a-zA-Z0-9_-]*(?:\/[a-zA-Z0-9@][a-zA-Z0-9_./@+-]*)?)(?:#((?:[A-Za-z0-9\-._~!$&'"()*+,;=:@/? ^]|%[0-9a-fA-F]{2})*))?$/;
const HAS_SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

function fromParsedURL(url: ParsedURL): [FlakeRef, string] {
  const dir = url.query.get('dir') ?? '';
  url.query.delete('dir');
  const fragment = url.fragment;
  url.fragment = '';
  return [{ input: inputFromParsedURL(url, true), dir }, fragment];
}

/** `parsePathFlakeRefWithFragment` without a base directory. */
function parsePath(text: string): [FlakeRef, string] {
  const m = /^([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s.exec(text);
  const path = m?.[1] ?? '';
  if (!path.startsWith('/')) throw new NixError('invalid-ref', `flake reference '${text}' is not an absolute path`);
  const query = decodeQuery(m?.[2] ?? '', true);
  const fragment = percentDecode(m?.[3] ?? '');
  return fromParsedURL({ scheme: 'path', authority: { host: '' }, path: pathToUrlPath(path), query, fragment });
}

/** `parseFlakeRefWithFragment`: shorthand first, then a URL with a scheme, then a path. */
export function parseFlakeRefWithFragment(text: string): [FlakeRef, string] {
  if (text.length > MAX_FLAKE_REF_LENGTH)
    throw new NixError('invalid-ref', `flake reference is longer than ${MAX_FLAKE_REF_LENGTH} characters`);
  const m = SHORTHAND_RE.exec(text);
  if (m) {
    const url: ParsedURL = { scheme: 'flake', path: (m[1] as string).split('/'), query: new Map(), fragment: '' };
    return [{ input: inputFromParsedURL(url, true), dir: '' }, percentDecode(m[2] ?? '')];
  }
  let parsed: ParsedURL;
  try {
    parsed = parseURL(text, true);
  } catch (e) {
    if (!(e instanceof BadURLError) || !HAS_SCHEME_RE.test(text)) return parsePath(text);
    throw e;
  }
  return fromParsedURL(parsed);
}

/** `parseFlakeRef`: like Nix, a fragment (`#attr`) is an error here. */
export function parseFlakeRef(text: string): FlakeRef {
  const [ref, fragment] = parseFlakeRefWithFragment(text);
  if (fragment !== '')
    throw new NixError('invalid-ref', `unexpected fragment '${fragment}' in flake reference '${text}'`);
  return ref;
}

/** `FlakeRef::to_string`: `dir` joins the query unless the input's URL already has one. */
export function flakeRefToString(ref: FlakeRef): string {
  const url = inputToParsedURL(ref.input);
  if (ref.dir !== '' && !url.query.has('dir')) url.query.set('dir', ref.dir);
  return urlToString(url);
}

export function flakeRefToAttrs(ref: FlakeRef): Attrs {
  return ref.dir === '' || ref.input['dir'] !== undefined ? ref.input : { ...ref.input, dir: ref.dir };
}

/** `FlakeRef::fromAttrs`. */
export function flakeRefFromAttrs(attrs: Attrs): FlakeRef {
  const dir = maybeStr(attrs, 'dir') ?? '';
  return { input: inputFromAttrs(withoutAttrs(attrs, 'dir')), dir };
}
