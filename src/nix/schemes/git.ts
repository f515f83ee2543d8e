/** `git+…` and `git:` inputs (src/libfetchers/git.cc; `fixGitURL` from src/libutil/url.cc). */
import type { Attrs } from '../attrs.js';
import { NixError } from '../errors.js';
import type { ParsedURL } from '../url.js';
import { BadURLError, parseURL, parseUrlScheme, pathToUrlPath, urlToString } from '../url.js';
import type { InputScheme } from './common.js';
import { invalid, isLegalRefName, maybeBool, maybeStr, parseRev, requireStr } from './common.js';

const BOOL_PARAMS = new Set(['shallow', 'submodules', 'lfs', 'exportIgnore', 'allRefs', 'verifyCommit']);
/** Signed-commit checking needs the `verified-fetches` experimental feature, off by default. */
const VERIFIED_FETCHES = new Set(['verifyCommit', 'keytype', 'publicKey', 'publicKeys']);
const GIT_SCHEMES = new Set(['ssh', 'http', 'https', 'file', 'ftp', 'ftps', 'git'].flatMap((s) => [s, `git+${s}`]));

/**
 * `fixGitURL`: an absolute path becomes a `file://` URL, `[user@]host:path` (SCP syntax) an
 * `ssh://` one; otherwise the URL is parsed strictly and a `git+` prefix dropped. The IPv6
 * bracket forms of SCP syntax are not recognised here.
 */
export function fixGitURL(url: string): ParsedURL {
  if (url.startsWith('/'))
    return { scheme: 'file', authority: { host: '' }, path: pathToUrlPath(url), query: new Map(), fragment: '' };
  const colon = url.indexOf(':');
  if (!url.includes('://') && colon >= 0 && !url.slice(0, colon).includes('/') && !url.includes('[')) {
    const hostPart = url.slice(0, colon);
    if (!GIT_SCHEMES.has(hostPart)) {
      const pathView = url.slice(colon + 1);
      if (pathView === '') throw new BadURLError(`SCP-style Git URL '${url}' has an empty path`);
      const at = hostPart.indexOf('@');
      const path = pathView.split('/');
      // A relative SCP path cannot be written as an ssh:// URL; Nix makes it absolute (with a warning).
      if (path[0] !== '') path.unshift('');
      return {
        scheme: 'ssh',
        authority: at < 0 ? { host: hostPart } : { host: hostPart.slice(at + 1), user: hostPart.slice(0, at) },
        path,
        query: new Map(),
        fragment: '',
      };
    }
  }
  const parsed = parseURL(url);
  const { application, transport } = parseUrlScheme(parsed.scheme);
  if (application === 'git') parsed.scheme = transport;
  return parsed;
}

export const gitScheme: InputScheme = {
  name: 'git',
  allowedAttrs: new Set([
    'url',
    'ref',
    'rev',
    'shallow',
    'submodules',
    'lfs',
    'exportIgnore',
    'lastModified',
    'revCount',
    'narHash',
    'allRefs',
    'name',
    'dirtyRev',
    'dirtyShortRev',
    ...VERIFIED_FETCHES,
  ]),

  fromURL(url) {
    if (url.scheme !== 'git' && parseUrlScheme(url.scheme).application !== 'git') return undefined;
    const attrs: Record<string, string | boolean> = { type: 'git' };
    const rest = new Map<string, string>();
    for (const [k, v] of url.query) {
      if (k === 'rev' || k === 'ref' || k === 'keytype' || k === 'publicKey' || k === 'publicKeys') attrs[k] = v;
      else if (BOOL_PARAMS.has(k)) attrs[k] = v === '1';
      else rest.set(k, v);
    }
    attrs['url'] = urlToString({ ...url, query: rest });
    return gitScheme.fromAttrs(attrs);
  },

  fromAttrs(attrs) {
    for (const k of Object.keys(attrs))
      if (VERIFIED_FETCHES.has(k))
        throw invalid(
          "experimental Nix feature 'verified-fetches' is disabled; add '--extra-experimental-features verified-fetches' to enable it",
        );
    const ref = maybeStr(attrs, 'ref');
    if (ref !== undefined && !isLegalRefName(ref)) throw invalid(`invalid Git branch/tag name '${ref}'`);
    for (const k of BOOL_PARAMS) maybeBool(attrs, k);
    const rev = maybeStr(attrs, 'rev');
    return {
      ...attrs,
      url: urlToString(fixGitURL(requireStr(attrs, 'url'))),
      ...(rev !== undefined && { rev: parseRev(rev) }),
    };
  },

  toURL(input): ParsedURL {
    const url = parseURL(requireStr(input, 'url'));
    if (url.scheme !== 'git') url.scheme = `git+${url.scheme}`;
    const rev = maybeStr(input, 'rev');
    const ref = maybeStr(input, 'ref');
    if (rev !== undefined) url.query.set('rev', parseRev(rev));
    if (ref !== undefined) url.query.set('ref', ref);
    // `allRefs` is accepted but, as in Nix, never printed.
    for (const k of ['shallow', 'lfs', 'submodules', 'exportIgnore']) if (maybeBool(input, k)) url.query.set(k, '1');
    return url;
  },

  applyOverrides(input, ref, rev, show): Attrs {
    const res: Attrs = {
      ...input,
      ...(rev !== undefined && { rev: parseRev(rev) }),
      ...(ref !== undefined && { ref }),
    };
    if (maybeStr(res, 'ref') === undefined && maybeStr(res, 'rev') !== undefined)
      throw new NixError('override', `Git input '${show(res)}' has a commit hash but no branch/tag name`);
    return res;
  },
};
