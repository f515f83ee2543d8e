import { diffRegistries } from './diff.js';
import type { ChangeSummary } from './diff.js';
import { applyChanges } from './edit.js';
import type { EditError } from './edit.js';
import { entryKeyParts, entryLabel } from './entry-key.js';
import type { Registry } from './registry.js';
import type { EntryChange } from './changes.js';
import { compareKeys } from './attrs.js';

/**
 * Merging a proposal's changes into the head of a registry. A proposal is
 * written against a base version; when the head has moved on, its effect
 * (the diff from the base to the base with the changes applied) is replayed
 * on the head, unless it names an entry (a `from` and exactness), as target or
 * as anchor, that changed between the base and the head. A whole-file upload thus becomes the entry
 * changes it makes against its base. Pure: the verifier replays it offline.
 */

export type MergeResult =
  | { readonly ok: true; readonly registry: Registry; readonly summary: ChangeSummary }
  /** `entries`: the entries the proposal touches that also changed on the head, labelled as in a summary, sorted. */
  | { readonly ok: false; readonly reason: 'conflict'; readonly entries: string[] }
  | { readonly ok: false; readonly reason: 'invalid-change'; readonly error: EditError };

export function mergeChanges(
  base: Registry,
  head: Registry,
  changes: readonly EntryChange[],
  baseIsHead: boolean,
): MergeResult {
  const proposed = applyChanges(base, changes);
  if (!proposed.ok) return { ok: false, reason: 'invalid-change', error: proposed.error };
  if (baseIsHead) {
    return { ok: true, registry: proposed.registry, summary: diffRegistries(base, proposed.registry).summary };
  }
  const ours = diffRegistries(base, proposed.registry);
  const theirs = diffRegistries(base, head);
  const clash = [...theirs.changedKeys].filter((key) => ours.touched === 'all' || ours.touched.has(key));
  if (clash.length > 0) return { ok: false, reason: 'conflict', entries: conflictURLs(clash) };
  const merged = applyChanges(head, ours.changes);
  // Unreachable when the check above holds: every key the changes name is unchanged on the head.
  if (!merged.ok) return { ok: false, reason: 'invalid-change', error: merged.error };
  return { ok: true, registry: merged.registry, summary: diffRegistries(head, merged.registry).summary };
}

function conflictURLs(keys: readonly string[]): string[] {
  const urls = keys.map((key) => {
    const { from, exact } = entryKeyParts(key);
    return entryLabel(from, exact);
  });
  return [...new Set(urls)].sort(compareKeys);
}
