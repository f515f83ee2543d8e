/** `path:` inputs (src/libfetchers/path.cc). */
import type { ParsedURL } from '../url.js';
import { authorityToString, pathToUrlPath, urlPathToPath, urlToString } from '../url.js';
import type { InputScheme } from './common.js';
import { invalid, maybeStr, parseIntParam, parseRev, requireStr } from './common.js';

export const pathScheme: InputScheme = {
  name: 'path',
  allowedAttrs: new Set(['path', 'rev', 'revCount', 'lastModified', 'narHash']),

  fromURL(url) {
    if (url.scheme !== 'path') return undefined;
    const show = (): string => urlToString(url);
    if (url.authority && url.authority.host !== '')
      throw invalid(`path URL '${show()}' should not have an authority ('${authorityToString(url.authority)}')`);
    const attrs: Record<string, string | number> = { type: 'path', path: urlPathToPath(url.path) };
    // url.query iterates in key order, as Nix's std::map: that order decides which error wins.
    for (const [k, v] of url.query) {
      if (k === 'rev' || k === 'narHash') attrs[k] = v;
      else if (k === 'revCount' || k === 'lastModified') {
        const n = parseIntParam(v, k, () => `path URL '${show()}'`);
        if (n === undefined) throw invalid(`path URL '${show()}' has invalid parameter '${k}'`);
        attrs[k] = n;
      } else throw invalid(`path URL '${show()}' has unsupported parameter '${k}'`);
    }
    return pathScheme.fromAttrs(attrs);
  },

  fromAttrs(attrs) {
    requireStr(attrs, 'path');
    const rev = maybeStr(attrs, 'rev');
    return rev === undefined ? attrs : { ...attrs, rev: parseRev(rev) };
  },

  toURL(input): ParsedURL {
    // `attrsToQuery` of everything but path/type: integers in decimal.
    const query = new Map<string, string>();
    for (const [k, v] of Object.entries(input))
      if (k !== 'path' && k !== 'type' && k !== '__final')
        query.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    return { scheme: 'path', path: pathToUrlPath(requireStr(input, 'path')), query, fragment: '' };
  },
};
