/**
 * `fetchers::Input`: from URLs and attributes, back to URLs, and the ref/rev overrides applied
 * during registry lookup (src/libfetchers/fetchers.cc and one module per scheme).
 */
import type { Attrs } from './attrs.js';
import { NixError } from './errors.js';
import type { ParsedURL } from './url.js';
import { parseUrlScheme, urlToString } from './url.js';
import type { InputScheme } from './schemes/common.js';
import { attrsToJSON, checkAttrTypes, invalid, maybeStr, parseRev } from './schemes/common.js';
import { fileScheme, tarballScheme } from './schemes/tarball.js';
import { gitScheme } from './schemes/git.js';
import { githubScheme, gitlabScheme, sourcehutScheme } from './schemes/github.js';
import { hgScheme } from './schemes/hg.js';
import { indirectScheme } from './schemes/indirect.js';
import { pathScheme } from './schemes/path.js';

/** In Nix's registration map order (std::map by name), which decides who claims a URL first. */
const SCHEMES: readonly InputScheme[] = [
  fileScheme,
  gitScheme,
  githubScheme,
  gitlabScheme,
  hgScheme,
  indirectScheme,
  pathScheme,
  sourcehutScheme,
  tarballScheme,
];
const BY_NAME = new Map(SCHEMES.map((s) => [s.name, s]));

function schemeOf(input: Attrs): InputScheme {
  const type = maybeStr(input, 'type');
  if (type === undefined) throw invalid("'type' attribute to specify input scheme is required but not provided");
  const scheme = BY_NAME.get(type);
  // Nix keeps an input of unknown type as a "raw" input and fails on first use; the first use
  // here is always printing it, so its error is raised straight away.
  if (!scheme) throw invalid(`cannot show unsupported input '${attrsToJSON(input)}'`);
  return scheme;
}

/** `Input::fromURL(url, requireTree)`; the caller has taken `dir` and the fragment out. */
export function inputFromParsedURL(url: ParsedURL, requireTree: boolean): Attrs {
  for (const scheme of SCHEMES) {
    const attrs = scheme.fromURL(url, requireTree);
    if (attrs) {
      checkAttrTypes(attrs);
      return attrs;
    }
  }
  const { application, transport } = parseUrlScheme(url.scheme);
  if (application === 'file' && transport === 'git')
    throw invalid(`input '${urlToString(url)}' is unsupported; did you mean 'git+file' instead of 'file+git'?`);
  throw invalid(`input '${urlToString(url)}' is unsupported`);
}

/** `Input::fromAttrs`: allowed attributes per scheme, then the scheme's own checks. */
export function inputFromAttrs(attrs: Attrs): Attrs {
  const scheme = schemeOf(attrs);
  for (const name of Object.keys(attrs))
    if (name !== 'type' && name !== '__final' && !scheme.allowedAttrs.has(name))
      throw invalid(`input attribute '${name}' not supported by scheme '${scheme.name}'`);
  checkAttrTypes(attrs);
  return scheme.fromAttrs(attrs);
}

export function inputToParsedURL(input: Attrs): ParsedURL {
  return schemeOf(input).toURL(input);
}

/** `Input::to_string()`. */
export function inputToURL(input: Attrs): string {
  return urlToString(inputToParsedURL(input));
}

export function isDirect(input: Attrs): boolean {
  return input['type'] !== 'indirect';
}

export function getRef(input: Attrs): string | undefined {
  return maybeStr(input, 'ref');
}

export function getRev(input: Attrs): string | undefined {
  const rev = maybeStr(input, 'rev');
  return rev === undefined ? undefined : parseRev(rev);
}

/** `Input::applyOverrides`; schemes without their own refuse any ref or rev. */
export function applyOverrides(input: Attrs, ref: string | undefined, rev: string | undefined): Attrs {
  const scheme = schemeOf(input);
  if (scheme.applyOverrides) return scheme.applyOverrides(input, ref, rev, inputToURL);
  if (ref !== undefined)
    throw new NixError('override', `don't know how to set branch/tag name of input '${inputToURL(input)}' to '${ref}'`);
  if (rev !== undefined)
    throw new NixError(
      'override',
      `don't know how to set revision of input '${inputToURL(input)}' to '${parseRev(rev)}'`,
    );
  return input;
}
