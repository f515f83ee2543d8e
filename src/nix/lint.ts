import type { Attrs } from './attrs.js';
import { NixError } from './errors.js';
import { attrsKey, baseKey, fromURL } from './entry-key.js';
import { applyOverrides, getRef, getRev, inputToURL } from './input.js';
import type { LayerRef } from './lookup.js';
import { resolve } from './lookup.js';
import { indexFor } from './reach.js';
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
 */

export type FindingKind = 'duplicate-from' | 'cycle' | 'shadowed' | 'dangling' | 'override-ref' | 'override-rev';

export interface Finding {
  readonly severity: 'error' | 'warning';
  readonly kind: FindingKind;
  /** The entry's position in the file. */
  readonly entry: number;
  /** The entry's `from`, as Nix prints it. */
  readonly from: string;
  readonly message: string;
}

const SEVERITY: Record<FindingKind, Finding['severity']> = {
  'duplicate-from': 'error',
  cycle: 'error',
  shadowed: 'error',
  dangling: 'warning',
  'override-ref': 'warning',
  'override-rev': 'warning',
};

/** Stand-ins for a query's ref and rev when asking a target whether it can take one. */
const SAMPLE_REF = 'main';
const SAMPLE_REV = '0123456789abcdef0123456789abcdef01234567';

interface Group {
  /** The first non-exact entry without ref and rev: it matches every input of the group. */
  catchAll?: number;
  /** First position of each full `from`. */
  readonly first: Map<string, number>;
}

function overrideProblem(entry: RegistryEntry, ref: string | undefined, rev: string | undefined): string | undefined {
  try {
    applyOverrides(entry.to, ref, rev);
    return undefined;
  } catch (e) {
    if (e instanceof NixError) return e.message;
    throw e;
  }
}

export function lintRegistry(registry: Registry): Finding[] {
  const entries = registry.entries;
  // Lookups are deferred: most targets leave the registry at once, and the
  // few chains left need an index of only the part of the registry they reach.
  const deferred: { entry: number; input: Attrs; kind: 'cycle' | 'dangling' }[] = [];
  // Lookup only ever tries the entries whose `from` agrees with the input apart from ref and rev.
  const groupKeys = new Set(entries.map((e) => baseKey(e.from)));
  const groups = new Map<string, Group>();
  const findings: Finding[] = [];

  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as RegistryEntry;
    const report = (kind: FindingKind, message: string) => findings.push(finding(kind, i, entry, message));

    const key = attrsKey(entry.from);
    const base = baseKey(entry.from);
    let group = groups.get(base);
    if (group === undefined) groups.set(base, (group = { first: new Map() }));
    const same = group.first.get(key);
    const pinned = getRef(entry.from) !== undefined || getRev(entry.from) !== undefined;
    const single = entry.exact || pinned;
    // The entry a lookup of this entry's own `from` finds: the earlier of an equal `from` and a catch-all.
    const firstMatch = Math.min(same ?? i, group.catchAll ?? i);

    if (same !== undefined) {
      report(
        'duplicate-from',
        `entry ${same} has the same from '${fromURL(entry.from)}'; a change naming it cannot tell them apart`,
      );
    }
    if (group.catchAll !== undefined) {
      const by = fromURL(entries[group.catchAll]?.from ?? {});
      report(
        'shadowed',
        `unreachable: entry ${group.catchAll} (non-exact '${by}') matches first every input this entry matches`,
      );
    } else if (single && same !== undefined) {
      report('shadowed', `unreachable: entry ${same} has the same from and matches first`);
    }
    if (!single && group.catchAll === undefined) group.catchAll = i;
    if (same === undefined) group.first.set(key, i);

    const leaves = !groupKeys.has(baseKey(entry.to));
    if (firstMatch !== i || !leaves) deferred.push({ entry: i, input: entry.from, kind: 'cycle' });
    if (entry.to['type'] === 'indirect') {
      if (leaves) report('dangling', danglingText(notFound(entry.to)));
      else deferred.push({ entry: i, input: entry.to, kind: 'dangling' });
    }

    if (!entry.exact) {
      if (getRef(entry.from) === undefined) {
        const problem = overrideProblem(entry, SAMPLE_REF, undefined);
        if (problem !== undefined) {
          const query = inputToURL({ ...entry.from, ref: SAMPLE_REF });
          report('override-ref', `a query with a ref, such as '${query}', fails: ${problem}`);
        }
      }
      if (getRev(entry.from) === undefined) {
        const problem = overrideProblem(entry, undefined, SAMPLE_REV);
        if (problem !== undefined) {
          const query = inputToURL({ ...entry.from, rev: SAMPLE_REV });
          report('override-rev', `a query with a rev, such as '${query}', fails: ${problem}`);
        }
      }
    }
  }

  if (deferred.length > 0) {
    const index = indexFor(registry, new Set(deferred.map((d) => baseKey(d.input))));
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
  return { severity: SEVERITY[kind], kind, entry, from: fromURL(e.from), message };
}

const ORDER: readonly FindingKind[] = [
  'duplicate-from',
  'shadowed',
  'cycle',
  'dangling',
  'override-ref',
  'override-rev',
];

function danglingText(notFoundText: string): string {
  return `${notFoundText} (another registry searched first may define it)`;
}

/** lookup.ts's text for an indirect input no entry matches. */
function notFound(input: Attrs): string {
  return `cannot find flake '${inputToURL(input)}' in the flake registries`;
}

/** Findings of `after` that `before` did not have (same kind, same `from`): the ones a change introduces. */
export function newFindings(before: readonly Finding[], after: readonly Finding[]): Finding[] {
  const had = new Set(before.map((f) => `${f.kind}\n${f.from}`));
  return after.filter((f) => !had.has(`${f.kind}\n${f.from}`));
}
