/** `hg+…` inputs (src/libfetchers/mercurial.cc). */
import type { Attrs } from '../attrs.js';
import type { ParsedURL } from '../url.js';
import { parseURL, urlToString } from '../url.js';
import type { InputScheme } from './common.js';
import { REF_RE, invalid, maybeStr, parseRev, requireStr } from './common.js';

const HG_SCHEMES = new Set(['hg+http', 'hg+https', 'hg+ssh', 'hg+file']);

export const hgScheme: InputScheme = {
  name: 'hg',
  allowedAttrs: new Set(['url', 'ref', 'rev', 'revCount', 'narHash', 'name']),

  fromURL(url) {
    if (!HG_SCHEMES.has(url.scheme)) return undefined;
    const attrs: Record<string, string> = { type: 'hg' };
    const rest = new Map<string, string>();
    for (const [k, v] of url.query) {
      if (k === 'rev' || k === 'ref') attrs[k] = v;
      else rest.set(k, v);
    }
    attrs['url'] = urlToString({ ...url, scheme: url.scheme.slice(3), query: rest });
    return hgScheme.fromAttrs(attrs);
  },

  fromAttrs(attrs) {
    parseURL(requireStr(attrs, 'url'));
    const ref = maybeStr(attrs, 'ref');
    // Mercurial keeps the plain regex; only Git refs get libgit2's rules.
    if (ref !== undefined && !REF_RE.test(ref)) throw invalid(`invalid Mercurial branch/tag name '${ref}'`);
    const rev = maybeStr(attrs, 'rev');
    return rev === undefined ? attrs : { ...attrs, rev: parseRev(rev) };
  },

  toURL(input): ParsedURL {
    const url = parseURL(requireStr(input, 'url'));
    url.scheme = `hg+${url.scheme}`;
    const rev = maybeStr(input, 'rev');
    const ref = maybeStr(input, 'ref');
    if (rev !== undefined) url.query.set('rev', parseRev(rev));
    if (ref !== undefined) url.query.set('ref', ref);
    return url;
  },

  applyOverrides(input, ref, rev): Attrs {
    return {
      ...input,
      ...(rev !== undefined && { rev: parseRev(rev) }),
      ...(ref !== undefined && { ref }),
    };
  },
};
