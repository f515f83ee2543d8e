/**
 * Whether the ref the registries give an input now (R) is the source its lock (L) came
 * from: what decides whether the next `nix flake update` or `nix profile upgrade` moves it
 * along the same history or somewhere else.
 *
 * A lock keeps only some of what named its source (the fetchers in src/libfetchers/):
 * - github, gitlab, sourcehut: owner, repo, host when given, rev, narHash, lastModified. The
 *   branch is dropped (`input.attrs.erase("ref")` once the rev is known), so a lock cannot
 *   say which branch it followed: R's branch is what the next update follows, and a change
 *   of branch shows only when two audits are compared (`compareAudits`).
 * - git: url, ref (what was asked for, or the default branch as `git ls-remote --symref`
 *   names it, `refs/heads/main`), rev, revCount, narHash, and the fetch options.
 * - hg: url, ref, rev, revCount.
 * - tarball, file: the URL, unless the server answered with a `Link: <…>; rel="immutable"`
 *   header (current Nix), in which case the lock keeps that immutable URL instead.
 * - path: the path and narHash.
 * Every lock also keeps `dir` when the flake is in a subdirectory.
 *
 * So "same source" means: same type and the same of the attributes below, compared as the
 * services behind them compare (host names, and GitHub and GitLab owners and repositories,
 * ignore case); R's ref only when R names one (git, hg; `refs/heads/X` is X); a rev or
 * narHash only when R pins one. A tarball URL that differs is `unverifiable`, never a
 * redirect: the lock may hold the immutable URL the same source answered with.
 */
import type { AttrValue, Attrs } from './attrs.js';
import { compareKeys } from './attrs.js';

export interface AttrChange {
  readonly attribute: string;
  /** What the lock holds (null when it has none). */
  readonly from: AttrValue | null;
  /** What the registries give now (null when they give none). */
  readonly to: AttrValue | null;
}

export type SourceComparison =
  | { readonly kind: 'same' }
  | { readonly kind: 'pinned' }
  | { readonly kind: 'changed'; readonly changes: readonly AttrChange[] }
  | { readonly kind: 'unverifiable'; readonly lockedUrl: string; readonly resolvedUrl: string };

/** How an attribute compares: exactly, ignoring case, or as a boolean that defaults to false. */
type Rule = 'exact' | 'case' | 'flag';

const FORGE: Readonly<Record<string, Rule>> = { host: 'case', owner: 'case', repo: 'case' };
const IDENTITY: Readonly<Record<string, Readonly<Record<string, Rule>>>> = {
  github: FORGE,
  gitlab: FORGE,
  sourcehut: { host: 'case', owner: 'exact', repo: 'exact' },
  git: { url: 'exact', submodules: 'flag', lfs: 'flag', exportIgnore: 'flag' },
  hg: { url: 'exact' },
  path: { path: 'exact' },
  tarball: {},
  file: {},
};
const DEFAULT_HOST: Readonly<Record<string, string>> = {
  github: 'github.com',
  gitlab: 'gitlab.com',
  sourcehut: 'git.sr.ht',
};
const PINS = ['rev', 'narHash'];

function value(attrs: Attrs, name: string, rule: Rule | undefined): AttrValue | null {
  const v = attrs[name];
  if (name === 'host' && v === undefined) return DEFAULT_HOST[String(attrs['type'])] ?? null;
  if (name === 'dir' && v === undefined) return '';
  if (rule === 'flag' && v === undefined) return false;
  return v ?? null;
}

function same(a: AttrValue | null, b: AttrValue | null, rule: Rule | undefined): boolean {
  if (rule === 'case' && typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

const branch = (ref: AttrValue | undefined): AttrValue | undefined =>
  typeof ref === 'string' && ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref;

/** Compares R (`resolved`, with `dir`) with L (`locked`, with `dir`). */
export function compareSource(resolved: Attrs, locked: Attrs): SourceComparison {
  const rType = String(resolved['type']);
  const lType = String(locked['type']);
  const rules: Record<string, Rule> = { ...IDENTITY[lType], ...IDENTITY[rType], dir: 'exact' };
  const changes: AttrChange[] = [];
  const record = (attribute: string, from: AttrValue | null, to: AttrValue | null): void => {
    changes.push({ attribute, from, to });
  };
  if (rType !== lType) record('type', lType, rType);
  const curl = rType === lType && (rType === 'tarball' || rType === 'file');
  for (const name of Object.keys(rules).sort(compareKeys)) {
    const rule = rules[name];
    const r = value(resolved, name, rule);
    const l = value(locked, name, rule);
    if (!same(r, l, rule)) record(name, l, r);
  }
  // Across types the URL is one more attribute that changed; within tarballs it is judged below.
  if (!curl && (rType === 'tarball' || rType === 'file' || lType === 'tarball' || lType === 'file')) {
    const r = resolved['url'] ?? null;
    const l = locked['url'] ?? null;
    if (r !== l && !changes.some((c) => c.attribute === 'url')) record('url', l, r);
  }
  if (rType === lType && (rType === 'git' || rType === 'hg') && resolved['ref'] !== undefined) {
    const l = locked['ref'];
    if (l !== undefined && branch(resolved['ref']) !== branch(l)) record('ref', l, resolved['ref']);
  }
  const pins = PINS.filter((name) => resolved[name] !== undefined);
  for (const name of pins)
    if (resolved[name] !== locked[name]) record(name, locked[name] ?? null, resolved[name] as AttrValue);
  if (changes.length > 0)
    return { kind: 'changed', changes: changes.sort((a, b) => compareKeys(a.attribute, b.attribute)) };
  if (pins.length > 0) return { kind: 'pinned' };
  if (curl && resolved['url'] !== locked['url'])
    return { kind: 'unverifiable', lockedUrl: String(locked['url']), resolvedUrl: String(resolved['url']) };
  return { kind: 'same' };
}
