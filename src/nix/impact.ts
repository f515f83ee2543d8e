import type { Attrs } from './attrs.js';
import { compareKeys, sortAttrs, type AttrValue } from './attrs.js';
import type { ChangeSummary } from './diff.js';
import { attrsKey, baseKey, keyNumber, keysOf, labelParts } from './entry-key.js';
import { NixError } from './errors.js';
import { flakeRefToString, parseFlakeRef } from './flakeref.js';
import { inputToURL } from './input.js';
import type { LayerRef } from './lookup.js';
import { resolve } from './lookup.js';
import { indexFor, members, targetGroups } from './reach.js';
import type { Registry, RegistryEntry } from './registry.js';

/**
 * What a change does to resolution: for each flake id it touches, what its
 * refs resolved to before and after (what every `nix profile upgrade` of an
 * unlocked ref and every new lock file will pick up), and every other entry
 * that resolves differently because it chains through a touched entry. Each
 * registry is judged alone. Linear in registry size: chains are followed
 * backwards from the touched entries through an index of targets.
 */

/**
 * What a ref resolved to: its URL as Nix prints it and its attributes, which
 * may hold more than the URL shows (a git input's `narHash`, a tarball's `name`).
 */
export type ImpactOutcome =
  | { readonly url: string; readonly dir?: string; readonly attrs: Readonly<Record<string, AttrValue>> }
  | { readonly error: string };

export interface ImpactRow {
  /** The ref looked up, as Nix prints it (`flake:nixpkgs/nixos-25.05`). */
  readonly ref: string;
  readonly before: ImpactOutcome;
  readonly after: ImpactOutcome;
  readonly changed: boolean;
}

function outcome(input: Attrs, layers: readonly LayerRef[]): ImpactOutcome {
  const r = resolve({ input, dir: '' }, layers);
  if (!r.ok) return { error: r.error.message };
  const url = flakeRefToString(r.resolved);
  const attrs = sortAttrs(r.resolved.input);
  return r.resolved.dir === '' ? { url, attrs } : { url, dir: r.resolved.dir, attrs };
}

function sameOutcome(a: ImpactOutcome, b: ImpactOutcome): boolean {
  if ('error' in a || 'error' in b) return 'error' in a && 'error' in b && a.error === b.error;
  return a.url === b.url && a.dir === b.dir && attrsKey(a.attrs) === attrsKey(b.attrs);
}

function touchedInputs(summary: ChangeSummary): Attrs[] {
  const out: Attrs[] = [];
  for (const label of [...summary.added, ...summary.removed, ...summary.changed, ...summary.moved]) {
    try {
      out.push(parseFlakeRef(labelParts(label).url).input);
    } catch (e) {
      // A `from` that cannot be written as a ref cannot be queried either.
      if (!(e instanceof NixError)) throw e;
    }
  }
  return out;
}

export function resolutionImpact(before: Registry, after: Registry, summary: ChangeSummary): ImpactRow[] {
  const both = [...after.entries, ...before.entries];
  /** Inputs to resolve, in row order; `always` rows are shown even when unchanged. */
  const candidates: { input: Attrs; always: boolean }[] = [];
  const listed = new Set<string>();
  const add = (input: Attrs, always: boolean) => {
    const key = attrsKey(input);
    if (listed.has(key)) return;
    listed.add(key);
    candidates.push({ input, always });
  };

  // The touched ids: the bare id and every `from` of that id in either version.
  const touched = touchedInputs(summary);
  const ids = [...new Set(touched.flatMap((t) => (t['type'] === 'indirect' ? [String(t['id'])] : [])))].sort(
    compareKeys,
  );
  const formsOf = new Map<string, Attrs[]>(ids.map((id) => [id, [{ type: 'indirect', id }]]));
  for (const e of both) {
    if (e.from['type'] === 'indirect') formsOf.get(String(e.from['id']))?.push(e.from);
  }
  for (const id of ids) for (const form of formsOf.get(id) ?? []) add(form, true);
  for (const t of touched) if (t['type'] !== 'indirect') add(t, true);

  // Entries that reach a touched entry through their target, transitively
  // (the head's index of targets is memoised: it is the `before` of every merge).
  const targets = [after, before].map((r) => ({ r, groups: targetGroups(r) }));
  const queue = [...new Set(touched.map((t) => keyNumber(baseKey(t))))];
  const reached = new Set(queue);
  for (let i = 0; i < queue.length; i++) {
    for (const { r, groups } of targets) {
      for (const position of members(groups, queue[i] as number)) {
        const entry = r.entries[position] as RegistryEntry;
        add(entry.from, false);
        const k = keysOf(entry).baseNumber;
        if (!reached.has(k)) {
          reached.add(k);
          queue.push(k);
        }
      }
    }
  }

  const starts = new Set(candidates.map((c) => keyNumber(baseKey(c.input))));
  const layersBefore: LayerRef[] = [{ name: 'before', version: 0, index: indexFor(before, starts) }];
  const layersAfter: LayerRef[] = [{ name: 'after', version: 1, index: indexFor(after, starts) }];
  const rows: ImpactRow[] = [];
  for (const { input, always } of candidates) {
    const b = outcome(input, layersBefore);
    const a = outcome(input, layersAfter);
    const changed = !sameOutcome(b, a);
    if (always || changed) rows.push({ ref: inputToURL(input), before: b, after: a, changed });
  }
  return rows;
}

function show(o: ImpactOutcome): string {
  return 'error' in o ? `error: ${o.error}` : o.url;
}

/** `narHash: (none) -> sha256-…`, for attributes that differ between two outcomes the URLs do not tell apart. */
export function attrChanges(
  before: Readonly<Record<string, AttrValue>>,
  after: Readonly<Record<string, AttrValue>>,
): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(compareKeys);
  const shown = (v: AttrValue | undefined) => (v === undefined ? '(none)' : String(v));
  return keys.filter((k) => before[k] !== after[k]).map((k) => `${k}: ${shown(before[k])} -> ${shown(after[k])}`);
}

/** `nixpkgs: github:NixOS/nixpkgs/nixpkgs-unstable -> github:NixOS/nixpkgs/nixos-25.05`, or `… (unchanged)`. */
export function formatImpact(row: ImpactRow): string {
  const label = row.ref.startsWith('flake:') ? row.ref.slice('flake:'.length) : row.ref;
  if (!row.changed) return `${label}: ${show(row.after)} (unchanged)`;
  const { before, after } = row;
  if (!('error' in before) && !('error' in after) && before.url === after.url && before.dir === after.dir) {
    // Same URL, other attributes: say which, never "unchanged".
    return `${label}: ${before.url}, attributes changed (${attrChanges(before.attrs, after.attrs).join('; ')})`;
  }
  return `${label}: ${show(before)} -> ${show(after)}`;
}
