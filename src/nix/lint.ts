import type { Attrs } from './attrs.js';
import { NixError } from './errors.js';
import { entryLabel, fromURL, keysNumbered, keysOf } from './entry-key.js';
import { applyOverrides, getRef, getRev, inputToURL } from './input.js';
import type { LayerRef } from './lookup.js';
import { resolve } from './lookup.js';
import { firstOf, fromGroups, indexFor } from './reach.js';
import type { Registry, RegistryEntry } from './registry.js';

/**
 * Problems in one registry file, judged in that file alone (Nix searches
 * other registries first, so some findings can be moot for a given user).
 * Errors block a merge when a proposal introduces them (`newFindings`).
 *
 * Shadowing follows the match rules of lookup.ts. Entries can only ever match
 * inputs that agree with their `from` on everything but `ref` and `rev`, so
 * each such group is judged on its own, in file order:
 * - an entry that is exact, or whose `from` has a ref or a rev, matches exactly
 *   one input, its `from`;
 * - a non-exact entry whose `from` has neither matches its `from` with any ref
 *   and rev or none (infinitely many inputs).
 * So an entry is unreachable exactly when an earlier entry of its group is of
 * the second kind (it takes every input of the group first), or when it is of
 * the first kind and an earlier entry has an equal `from`. An earlier exact
 * entry with an equal `from` does not shadow a non-exact ref-free one: inputs
 * with a ref or rev still reach it (the official registry's `nixpkgs` fallback).
 * Two entries are a `duplicate-from` only when their exactness is equal too:
 * one exact and one non-exact entry per `from` is a layout Nix users rely on
 * (bare `nixpkgs` takes the exact tarball, `nixpkgs/BRANCH` the non-exact one).
 *
 * A merge lints a registry of thousands of entries that shares almost all of
 * its entry objects with the version before, so what depends on one entry
 * alone is memoised per entry object, and lookups run only for the few
 * entries whose target another entry can take up.
 */

export type FindingKind =
  | 'duplicate-from'
  | 'cycle'
  | 'shadowed'
  | 'dangling'
  | 'override-ref'
  | 'override-rev'
  | 'unsafe-text'
  | 'old-nix'
  | 'unfetchable-url';

export interface Finding {
  readonly severity: 'error' | 'warning';
  readonly kind: FindingKind;
  /** The entry's position in the file. */
  readonly entry: number;
  /** The entry's `from`, as Nix prints it. */
  readonly from: string;
  /** Whether the entry is exact: with `from`, the entry's identity. */
  readonly exact: boolean;
  readonly message: string;
}

const SEVERITY: Record<FindingKind, Finding['severity']> = {
  'duplicate-from': 'error',
  cycle: 'error',
  shadowed: 'error',
  dangling: 'warning',
  'override-ref': 'warning',
  'override-rev': 'warning',
  // Nix prints attribute values as they are: a terminal would obey what they hold.
  'unsafe-text': 'error',
  'old-nix': 'warning',
  // Nix can never fetch it: every lookup that reaches the entry fails.
  'unfetchable-url': 'error',
};

/** The transports Nix's tarball and file inputs fetch over (src/libfetchers/tarball.cc, CurlInputScheme). */
const CURL_TRANSPORTS = new Set(['http', 'https', 'file']);

/** A tarball or file input's `url` whose scheme Nix cannot fetch (`javascript:`, `data:`, `ftp:`, none). */
function unfetchable(attrs: Attrs): string | undefined {
  const type = attrs['type'];
  const url = attrs['url'];
  if ((type !== 'tarball' && type !== 'file') || typeof url !== 'string') return undefined;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined && CURL_TRANSPORTS.has(scheme)) return undefined;
  return scheme === undefined
    ? `its url '${url}' has no scheme: a ${type} is fetched over http, https or file`
    : `its url is a '${scheme}:' URL, which Nix cannot fetch: a ${type} is fetched over http, https or file`;
}

/** Stand-ins for a query's ref and rev when asking a target whether it can take one. */
const SAMPLE_REF = 'main';
const SAMPLE_REV = '0123456789abcdef0123456789abcdef01234567';

function overrideProblem(entry: RegistryEntry, ref: string | undefined, rev: string | undefined): string | undefined {
  try {
    applyOverrides(entry.to, ref, rev);
    return undefined;
  } catch (e) {
    if (e instanceof NixError) return e.message;
    throw e;
  }
}

/** What lint needs of one entry that depends on that entry alone. */
interface EntryFacts {
  /** `keyNumber`s of its `from`, of the lookup group it is in and of the group its target goes to. */
  readonly key: number;
  readonly base: number;
  readonly toBase: number;
  /** Exact, or its `from` has a ref or a rev: it matches exactly one input. */
  readonly single: boolean;
  /** Its `from` as Nix prints it: what every finding about it names. */
  readonly fromText: string;
  /** Findings about its target alone (override-ref, override-rev). */
  readonly own: readonly { readonly kind: FindingKind; readonly message: string }[];
}

const factsCache = new WeakMap<RegistryEntry, EntryFacts>();

/** Controls, format characters (bidi overrides, zero-width ones) and line separators. */
const UNSAFE_TEXT = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

function factsOf(entry: RegistryEntry): EntryFacts {
  let facts = factsCache.get(entry);
  if (facts !== undefined) return facts;
  const own: { kind: FindingKind; message: string }[] = [];
  if (!entry.exact) {
    if (getRef(entry.from) === undefined) {
      const problem = overrideProblem(entry, SAMPLE_REF, undefined);
      if (problem !== undefined) {
        const query = inputToURL({ ...entry.from, ref: SAMPLE_REF });
        own.push({ kind: 'override-ref', message: `a query with a ref, such as '${query}', fails: ${problem}` });
      }
    }
    if (getRev(entry.from) === undefined) {
      const problem = overrideProblem(entry, undefined, SAMPLE_REV);
      if (problem !== undefined) {
        const query = inputToURL({ ...entry.from, rev: SAMPLE_REV });
        own.push({ kind: 'override-rev', message: `a query with a rev, such as '${query}', fails: ${problem}` });
      }
    }
  }
  for (const [side, attrs] of [
    ['from', entry.from],
    ['to', entry.dir === undefined ? entry.to : { ...entry.to, dir: entry.dir }],
  ] as const) {
    for (const [name, value] of Object.entries(attrs)) {
      const found = typeof value === 'string' ? UNSAFE_TEXT.exec(value) : null;
      if (found) {
        const cp = `U+${(found[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
        own.push({
          kind: 'unsafe-text',
          message: `its '${side}.${name}' holds ${cp}, a control or format character: Nix prints attribute values as they are (nix registry list), so a terminal would obey it`,
        });
      }
    }
    const scheme = unfetchable(attrs);
    if (scheme !== undefined) own.push({ kind: 'unfetchable-url', message: `its '${side}' ${scheme.slice(4)}` });
    if (attrs['type'] === 'file') {
      own.push({
        kind: 'old-nix',
        message: `its '${side}' is of type 'file', which Nix 2.8 does not know: there nix registry list stops at this entry and lookups through it fail (later versions read it)`,
      });
    }
  }
  const pinned = getRef(entry.from) !== undefined || getRev(entry.from) !== undefined;
  const keys = keysOf(entry);
  facts = {
    key: keys.fromNumber,
    base: keys.baseNumber,
    toBase: keys.toBaseNumber,
    single: entry.exact || pinned,
    fromText: fromURL(entry.from),
    own,
  };
  factsCache.set(entry, facts);
  return facts;
}

export function lintRegistry(registry: Registry): Finding[] {
  const entries = registry.entries;
  // Lookups are deferred: most targets leave the registry at once, and the
  // few chains left need an index of only the part of the registry they reach.
  const deferred: { entry: number; group: number; input: Attrs; kind: 'cycle' | 'dangling' }[] = [];
  // Lookup only ever tries the entries whose `from` agrees with the input apart from ref and rev.
  // (Which also numbers every entry's keys: the arrays below are indexed by key number, -1 for none.)
  const groups = fromGroups(registry);
  const keys = keysNumbered();
  /** Per group: the first non-exact entry without ref and rev, which matches every input of the group. */
  const catchAll = new Int32Array(keys).fill(-1);
  /** First position of each full `from`; of the other exactness, when a `from` has both. */
  const firstFrom = new Int32Array(keys).fill(-1);
  const firstOther = new Int32Array(keys).fill(-1);
  const findings: Finding[] = [];

  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as RegistryEntry;
    const facts = factsOf(entry);

    const sameAt = firstFrom[facts.key] as number;
    const same = sameAt < 0 ? undefined : sameAt;
    let twin: number | undefined;
    if (same === undefined) firstFrom[facts.key] = i;
    else if ((entries[same] as RegistryEntry).exact === entry.exact) twin = same;
    else {
      const otherAt = firstOther[facts.key] as number;
      if (otherAt < 0) firstOther[facts.key] = i;
      else twin = otherAt;
    }
    const allAt = catchAll[facts.base] as number;
    const all = allAt < 0 ? undefined : allAt;
    // The entry a lookup of this entry's own `from` finds: the earlier of an equal `from` and a catch-all.
    const firstMatch = Math.min(same ?? i, all ?? i);

    if (twin !== undefined) {
      const message = `entry ${twin} is also '${entryLabel(entry.from, entry.exact)}'; a change naming it cannot tell them apart`;
      findings.push(finding('duplicate-from', i, entry, message));
    }
    if (all !== undefined) {
      const by = fromURL(entries[all]?.from ?? {});
      const message = `unreachable: '${entryLabel(entry.from, entry.exact)}' (entry ${i}) is shadowed by entry ${all} (non-exact '${by}'), which matches first every input it matches`;
      findings.push(finding('shadowed', i, entry, message));
    } else if (facts.single && same !== undefined) {
      const message = `unreachable: '${entryLabel(entry.from, entry.exact)}' (entry ${i}) is shadowed by entry ${same}, which has the same from and matches first`;
      findings.push(finding('shadowed', i, entry, message));
    }
    if (!facts.single && all === undefined) catchAll[facts.base] = i;

    // A lookup of this `from` can loop only if the entry it finds first has a target some entry takes up.
    const found = firstMatch === i ? facts : factsOf(entries[firstMatch] as RegistryEntry);
    if (firstOf(groups, found.toBase) >= 0)
      deferred.push({ entry: i, group: facts.base, input: entry.from, kind: 'cycle' });
    if (entry.to['type'] === 'indirect') {
      // A target no group takes ends a lookup at once.
      if (firstOf(groups, facts.toBase) < 0) {
        findings.push(finding('dangling', i, entry, danglingText(notFound(entry.to))));
      } else deferred.push({ entry: i, group: facts.toBase, input: entry.to, kind: 'dangling' });
    }
    for (const { kind, message } of facts.own) findings.push(finding(kind, i, entry, message));
  }

  if (deferred.length > 0) {
    const index = indexFor(registry, new Set(deferred.map((d) => d.group)));
    const layers: LayerRef[] = [{ name: 'lint', version: 0, index }];
    for (const d of deferred) {
      const r = resolve({ input: d.input, dir: '' }, layers);
      if (r.ok) continue;
      const entry = entries[d.entry] as RegistryEntry;
      if (d.kind === 'cycle' && r.error.kind === 'cycle')
        findings.push(finding('cycle', d.entry, entry, r.error.message));
      if (d.kind === 'dangling' && r.error.kind === 'not-found') {
        findings.push(finding('dangling', d.entry, entry, danglingText(r.error.message)));
      }
    }
    findings.sort((a, b) => a.entry - b.entry || ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
  }
  return findings;
}

function finding(kind: FindingKind, entry: number, e: RegistryEntry, message: string): Finding {
  return { severity: SEVERITY[kind], kind, entry, from: factsOf(e).fromText, exact: e.exact, message };
}

const ORDER: readonly FindingKind[] = [
  'duplicate-from',
  'shadowed',
  'cycle',
  'dangling',
  'override-ref',
  'override-rev',
  'unsafe-text',
  'old-nix',
];

function danglingText(notFoundText: string): string {
  return `${notFoundText} (another registry searched first may define it)`;
}

/** lookup.ts's text for an indirect input no entry matches. */
function notFound(input: Attrs): string {
  return `cannot find flake '${inputToURL(input)}' in the flake registries`;
}

/**
 * Findings of `after` that `before` did not have (same kind, same `from` and
 * exactness): the ones a change introduces.
 */
export function newFindings(before: readonly Finding[], after: readonly Finding[]): Finding[] {
  const had = findingIds(before);
  const ids = new Set<string>();
  const added: Finding[] = [];
  for (const f of after) {
    const id = findingId(f);
    ids.add(id);
    if (!had.has(id)) added.push(f);
  }
  // The result of one merge is the head the next merge is linted against.
  idSets.set(after, ids);
  return added;
}

const findingId = (f: Finding): string => `${f.kind}\n${f.exact ? '=' : ''}${f.from}`;

/** The ids of a list of findings, memoised: a merge's result is the `before` of the next merge. */
const idSets = new WeakMap<readonly Finding[], ReadonlySet<string>>();

function findingIds(findings: readonly Finding[]): ReadonlySet<string> {
  let ids = idSets.get(findings);
  if (ids === undefined) idSets.set(findings, (ids = new Set(findings.map(findingId))));
  return ids;
}
