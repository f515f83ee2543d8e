/**
 * Reading `nix registry list` as Nix 2.8 prints it: one `global FROM TO` line per
 * entry, in file order, each side a flake URL in 2.8's printing (`dir` of an entry
 * printed as a query parameter of TO). Only the URL forms the suite's registry uses
 * are understood; anything else is returned as `{ unparsed }` and fails the comparison.
 */

export type Attrs = Record<string, string | number | boolean>;

const REV = /^[0-9a-f]{40}$/;

function query(url: string): [string, Attrs] {
  const q = url.indexOf('?');
  if (q < 0) return [url, {}];
  // Decoding makes 2.8's lowercase escapes and current Nix's uppercase ones agree.
  return [url.slice(0, q), Object.fromEntries(new URLSearchParams(url.slice(q + 1)))];
}

/** Nix's URL forms carry booleans as `1`/`0` and integers as digits. */
function typed(params: Attrs): Attrs {
  const out: Attrs = {};
  for (const [k, v] of Object.entries(params)) {
    if (k === 'shallow' || k === 'submodules') out[k] = v === '1';
    else if (k === 'lastModified' || k === 'revCount') out[k] = Number(v);
    else out[k] = v;
  }
  return out;
}

export function parsePrintedRef(printed: string): Attrs {
  const [base, params] = query(printed);
  const colon = base.indexOf(':');
  const scheme = base.slice(0, colon);
  const rest = base.slice(colon + 1);
  if (scheme === 'flake') {
    const [id, a, b] = rest.split('/').filter((s) => s !== '');
    const out: Attrs = { type: 'indirect', id: id ?? '' };
    if (b !== undefined && a !== undefined) Object.assign(out, { ref: a, rev: b });
    else if (a !== undefined) Object.assign(out, REV.test(a) ? { rev: a } : { ref: a });
    return { ...out, ...params };
  }
  if (scheme.startsWith('git+')) return { type: 'git', url: `${scheme.slice(4)}:${rest}`, ...typed(params) };
  if (scheme === 'path') return { type: 'path', path: rest, ...typed(params) };
  if (scheme === 'github') {
    const [owner, repo, refOrRev] = rest.split('/');
    const out: Attrs = { type: 'github', owner: owner ?? '', repo: repo ?? '' };
    if (refOrRev !== undefined) out[REV.test(refOrRev) ? 'rev' : 'ref'] = refOrRev;
    return { ...out, ...params };
  }
  if (scheme === 'https' || scheme === 'http') return { type: 'tarball', url: base, ...params };
  return { unparsed: printed };
}

export interface ListedEntry {
  readonly registry: string;
  readonly from: Attrs;
  readonly to: Attrs;
}

export function parseRegistryList(stdout: string): ListedEntry[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [registry = '', from = '', to = ''] = line.trim().split(/\s+/);
      return { registry, from: parsePrintedRef(from), to: parsePrintedRef(to) };
    });
}
