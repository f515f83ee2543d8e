/** `flake:` inputs, resolved through the registries (src/libfetchers/indirect.cc). */
import type { Attrs } from '../attrs.js';
import type { ParsedURL } from '../url.js';
import { urlToString } from '../url.js';
import type { InputScheme } from './common.js';
import { FLAKE_ID_RE, REV_RE, invalid, isLegalRefName, maybeStr, parseRev, requireStr } from './common.js';

export const indirectScheme: InputScheme = {
  name: 'indirect',
  allowedAttrs: new Set(['id', 'ref', 'rev', 'narHash']),

  fromURL(url) {
    if (url.scheme !== 'flake') return undefined;
    // Empty segments are skipped for compatibility with older Nix's tokenizeString.
    const path = url.path.filter((s) => s !== '');
    let ref: string | undefined;
    let rev: string | undefined;
    const show = (): string => urlToString(url);
    if (path.length === 2) {
      const p = path[1] as string;
      if (REV_RE.test(p)) rev = p.toLowerCase();
      else if (isLegalRefName(p)) ref = p;
      else throw invalid(`in flake URL '${show()}', '${p}' is not a commit hash or branch/tag name`);
    } else if (path.length === 3) {
      const [, r, h] = path as [string, string, string];
      if (!isLegalRefName(r)) throw invalid(`in flake URL '${show()}', '${r}' is not a branch/tag name`);
      if (!REV_RE.test(h)) throw invalid(`in flake URL '${show()}', '${h}' is not a commit hash`);
      ref = r;
      rev = h.toLowerCase();
    } else if (path.length !== 1) {
      // Sic: Nix's message says GitHub here.
      throw invalid(`GitHub URL '${show()}' is invalid`);
    }
    const id = path[0] as string;
    if (!FLAKE_ID_RE.test(id)) throw invalid(`'${id}' is not a valid flake ID`);
    // Query parameters are ignored, as Nix does ("FIXME: forbid query params?").
    return { type: 'indirect', id, ...(ref !== undefined && { ref }), ...(rev !== undefined && { rev }) };
  },

  fromAttrs(attrs) {
    const id = requireStr(attrs, 'id');
    if (!FLAKE_ID_RE.test(id)) throw invalid(`'${id}' is not a valid flake ID`);
    const rev = maybeStr(attrs, 'rev');
    return rev === undefined ? attrs : { ...attrs, rev: parseRev(rev) };
  },

  toURL(input): ParsedURL {
    const path = [requireStr(input, 'id')];
    const ref = maybeStr(input, 'ref');
    const rev = maybeStr(input, 'rev');
    if (ref !== undefined) path.push(ref);
    if (rev !== undefined) path.push(parseRev(rev));
    return { scheme: 'flake', path, query: new Map(), fragment: '' };
  },

  applyOverrides(input, ref, rev): Attrs {
    return {
      ...input,
      ...(rev !== undefined && { rev: parseRev(rev) }),
      ...(ref !== undefined && { ref }),
    };
  },
};
