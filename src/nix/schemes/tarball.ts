/** `tarball+…`, `file+…` and plain http(s)/file URLs (src/libfetchers/tarball.cc, CurlInputScheme). */
import type { ParsedURL } from '../url.js';
import { parseURL, parseUrlScheme, urlToString } from '../url.js';
import type { InputScheme } from './common.js';
import { maybeStr, parseIntParam, parseRev, requireStr } from './common.js';

const TRANSPORTS = new Set(['file', 'http', 'https']);
const ARCHIVE_SUFFIXES = ['.zip', '.tar', '.tgz', '.tar.gz', '.tar.xz', '.tar.bz2', '.tar.zst'];
const ALLOWED = ['url', 'narHash', 'name', 'unpack', 'rev', 'revCount', 'lastModified'];

function hasTarballExtension(url: ParsedURL): boolean {
  const last = url.path.at(-1);
  return last !== undefined && ARCHIVE_SUFFIXES.some((s) => last.endsWith(s));
}

function curlScheme(name: 'file' | 'tarball'): InputScheme {
  const scheme: InputScheme = {
    name,
    allowedAttrs: new Set(ALLOWED),

    fromURL(url, requireTree) {
      const { application, transport } = parseUrlScheme(url.scheme);
      if (!TRANSPORTS.has(transport)) return undefined;
      // A flake reference always wants a tree, so a plain URL is a tarball whatever its suffix.
      const wantsTree = requireTree || hasTarballExtension(url);
      if (application !== undefined ? application !== name : name === 'tarball' ? !wantsTree : wantsTree)
        return undefined;
      const q = url.query;
      // As in Nix, a value that is not a uint64 is dropped silently (tarball.cc); only one too
      // large for a JavaScript number is an error, as on path: URLs.
      const count = (k: string): number | undefined => {
        const v = q.get(k);
        return v === undefined ? undefined : parseIntParam(v, k, () => `URL '${urlToString(url)}'`);
      };
      const lastModified = count('lastModified');
      const revCount = count('revCount');
      const rest = new Map([...q].filter(([k]) => !ALLOWED.includes(k)));
      return scheme.fromAttrs({
        ...(q.has('narHash') && { narHash: q.get('narHash') as string }),
        ...(q.has('rev') && { rev: q.get('rev') as string }),
        ...(revCount !== undefined && { revCount }),
        ...(lastModified !== undefined && { lastModified }),
        type: name,
        url: urlToString({ ...url, scheme: transport, query: rest }),
      });
    },

    fromAttrs(attrs) {
      requireStr(attrs, 'url');
      const rev = maybeStr(attrs, 'rev');
      return rev === undefined ? attrs : { ...attrs, rev: parseRev(rev) };
    },

    toURL(input): ParsedURL {
      const url = parseURL(requireStr(input, 'url'));
      const narHash = maybeStr(input, 'narHash');
      if (narHash !== undefined) url.query.set('narHash', narHash);
      return url;
    },
  };
  return scheme;
}

export const fileScheme = curlScheme('file');
export const tarballScheme = curlScheme('tarball');
