/** `github:`, `gitlab:` and `sourcehut:` inputs (src/libfetchers/github.cc, GitArchiveInputScheme). */
import type { Attrs } from '../attrs.js';
import { withoutAttrs } from '../attrs.js';
import { NixError } from '../errors.js';
import type { ParsedURL } from '../url.js';
import { urlToString } from '../url.js';
import type { InputScheme } from './common.js';
import { REV_RE, attrsToJSON, invalid, isLegalRefName, maybeStr, parseRev, requireStr } from './common.js';

/** github.cc `hostRegexS` (current Nix also allows `-`). */
const HOST_RE = /^[a-zA-Z0-9.-]*$/;

function gitArchiveScheme(name: 'github' | 'gitlab' | 'sourcehut'): InputScheme {
  const scheme: InputScheme = {
    name,
    allowedAttrs: new Set(['owner', 'repo', 'ref', 'rev', 'narHash', 'lastModified', 'host', 'treeHash']),

    fromURL(url) {
      if (url.scheme !== name) return undefined;
      const path = url.path.filter((s) => s !== '');
      const show = (): string => urlToString(url);
      const attrs: Record<string, string> = {};
      if (path.length === 3) {
        const p = path[2] as string;
        attrs[REV_RE.test(p) ? 'rev' : 'ref'] = p;
      } else if (path.length > 3) {
        attrs['ref'] = path.slice(2).join('/');
      } else if (path.length < 2) {
        throw invalid(`URL '${show()}' is invalid`);
      }
      for (const [k, v] of url.query) {
        if (k === 'rev' || k === 'ref') {
          if (attrs[k] !== undefined)
            throw invalid(`URL '${show()}' contains multiple ${k === 'rev' ? 'commit hashes' : 'branch/tag names'}`);
          attrs[k] = v;
        } else if (k === 'host' || k === 'narHash') attrs[k] = v;
        else throw invalid(`URL '${show()}' contains unknown parameter '${k}'`);
      }
      return scheme.fromAttrs({ ...attrs, type: name, owner: path[0] as string, repo: path[1] as string });
    },

    fromAttrs(attrs) {
      requireStr(attrs, 'owner');
      requireStr(attrs, 'repo');
      const ref = maybeStr(attrs, 'ref');
      const rev = maybeStr(attrs, 'rev');
      if (ref !== undefined && rev !== undefined)
        throw invalid(
          `input ${attrsToJSON(attrs)} contains both a commit hash ('${rev}') and a branch/tag name ('${ref}')`,
        );
      const normalised = rev === undefined ? attrs : { ...attrs, rev: parseRev(rev) };
      if (ref !== undefined && !isLegalRefName(ref))
        throw invalid(`input ${attrsToJSON(attrs)} contains an invalid branch/tag name`);
      const host = maybeStr(attrs, 'host');
      if (host !== undefined && !HOST_RE.test(host))
        throw invalid(`input ${attrsToJSON(attrs)} contains an invalid instance host`);
      return normalised;
    },

    toURL(input): ParsedURL {
      const path = [requireStr(input, 'owner'), requireStr(input, 'repo')];
      const ref = maybeStr(input, 'ref');
      const rev = maybeStr(input, 'rev');
      if (ref !== undefined) path.push(ref);
      if (rev !== undefined) path.push(parseRev(rev));
      const query = new Map<string, string>();
      const narHash = maybeStr(input, 'narHash');
      if (narHash !== undefined) query.set('narHash', narHash);
      const host = maybeStr(input, 'host');
      if (host !== undefined) query.set('host', host);
      return { scheme: name, path, query, fragment: '' };
    },

    applyOverrides(input, ref, rev, show): Attrs {
      if (ref !== undefined && rev !== undefined)
        throw new NixError(
          'override',
          `cannot apply both a commit hash (${parseRev(rev)}) and a branch/tag name ('${ref}') to input '${show(input)}'`,
        );
      if (rev !== undefined) return { ...withoutAttrs(input, 'ref'), rev: parseRev(rev) };
      if (ref !== undefined) return { ...withoutAttrs(input, 'rev'), ref };
      return input;
    },
  };
  return scheme;
}

export const githubScheme = gitArchiveScheme('github');
export const gitlabScheme = gitArchiveScheme('gitlab');
export const sourcehutScheme = gitArchiveScheme('sourcehut');
