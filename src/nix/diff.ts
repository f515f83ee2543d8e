import { attrsKey, entriesEqual, entryToJson, fromURL } from './entry-key.js';
import type { Registry, RegistryEntry } from './registry.js';
import { writeRegistry } from './registry.js';
import type { Change, ChangeFile, Position } from '../protocol/changes.js';

/**
 * What changed between two registry versions, by entry `from` (as URLs, the
 * shape of a version record's change summary), and the shortest list of
 * set/remove/move changes that turns the first into the second.
 *
 * Entries are paired by `from`; when several share one (a file lint already
 * flags), the k-th of each side are paired. The common entries that keep
 * their relative order are a longest common subsequence; every other common
 * entry counts as moved. With distinct keys that subsequence is a longest
 * increasing subsequence, found in O(n log n).
 */

export interface ChangeSummary {
  added: string[];
  removed: string[];
  changed: string[];
  moved: string[];
}

export interface RegistryDiff {
  readonly summary: ChangeSummary;
  /**
   * Applying these to the first registry gives the second exactly. When an
   * edit would have to name a `from` that several entries share, no list of
   * entry changes can say which one is meant, and this is a single `file`
   * change instead.
   */
  readonly changes: Change[];
  /** `from` keys (attrsKey) the changes name, as targets or anchors; `all` for a `file` change. */
  readonly touched: ReadonlySet<string> | 'all';
  /** `from` keys of the entries in the summary. */
  readonly changedKeys: ReadonlySet<string>;
}

interface Side {
  readonly keys: string[];
  /** key + occurrence → position. */
  readonly tokens: Map<string, number>;
  readonly tokenAt: string[];
  readonly counts: Map<string, number>;
}

function side(registry: Registry): Side {
  const counts = new Map<string, number>();
  const keys: string[] = [];
  const tokens = new Map<string, number>();
  const tokenAt: string[] = [];
  registry.entries.forEach((entry, i) => {
    const key = attrsKey(entry.from);
    const n = counts.get(key) ?? 0;
    counts.set(key, n + 1);
    const token = n === 0 ? key : `${key}\n${n}`;
    keys.push(key);
    tokens.set(token, i);
    tokenAt.push(token);
  });
  return { keys, tokens, tokenAt, counts };
}

/** Indices (into `values`) of a longest strictly increasing subsequence; values are distinct. */
function longestIncreasing(values: readonly number[]): Set<number> {
  const tails: number[] = [];
  const prev: number[] = new Array<number>(values.length).fill(-1);
  values.forEach((v, i) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((values[tails[mid] as number] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1] as number;
    tails[lo] = i;
  });
  const kept = new Set<number>();
  for (let i = tails.length === 0 ? -1 : (tails[tails.length - 1] as number); i >= 0; i = prev[i] as number)
    kept.add(i);
  return kept;
}

export function diffRegistries(a: Registry, b: Registry): RegistryDiff {
  const sa = side(a);
  const sb = side(b);
  const summary: ChangeSummary = { added: [], removed: [], changed: [], moved: [] };
  const changedKeys = new Set<string>();
  const changes: Change[] = [];
  const touched = new Set<string>();
  let ambiguous = false;
  const shared = (key: string) => (sa.counts.get(key) ?? 0) > 1 || (sb.counts.get(key) ?? 0) > 1;

  a.entries.forEach((entry, i) => {
    if (sb.tokens.has(sa.tokenAt[i] as string)) return;
    const key = sa.keys[i] as string;
    summary.removed.push(fromURL(entry.from));
    changedKeys.add(key);
    touched.add(key);
    if (shared(key)) ambiguous = true;
    changes.push({ op: 'remove', from: entryToJson(entry).from });
  });

  // Positions in `a` of the common entries, in `b`'s order.
  const commonB: number[] = [];
  const positionsInA: number[] = [];
  sb.tokenAt.forEach((token, j) => {
    const i = sa.tokens.get(token);
    if (i === undefined) return;
    commonB.push(j);
    positionsInA.push(i);
  });
  const staying = new Set([...longestIncreasing(positionsInA)].map((k) => commonB[k] as number));

  b.entries.forEach((entry, j) => {
    const key = sb.keys[j] as string;
    const i = sa.tokens.get(sb.tokenAt[j] as string);
    const before: RegistryEntry | undefined = i === undefined ? undefined : a.entries[i];
    const isNew = before === undefined;
    const moved = !isNew && !staying.has(j);
    const changed = !isNew && !entriesEqual(before, entry);
    const url = fromURL(entry.from);
    if (isNew) summary.added.push(url);
    if (changed) summary.changed.push(url);
    if (moved) summary.moved.push(url);
    if (!isNew && !moved && !changed) return;
    changedKeys.add(key);
    touched.add(key);
    if (shared(key)) ambiguous = true;
    const json = entryToJson(entry);
    if (!isNew && !moved) {
      changes.push({ op: 'set', entry: json });
      return;
    }
    const previous = b.entries[j - 1];
    let position: Position;
    if (previous === undefined) position = 'start';
    else if (!shared(sb.keys[j - 1] as string)) {
      position = { after: entryToJson(previous).from };
      touched.add(sb.keys[j - 1] as string);
    } else if (j === b.entries.length - 1) {
      // Everything before it is in place by now, so the end is right after its predecessor.
      position = 'end';
    } else {
      ambiguous = true;
      position = 'end';
    }
    if (isNew || changed) changes.push({ op: 'set', entry: json, position });
    else changes.push({ op: 'move', from: json.from, position });
  });

  if (ambiguous) {
    const file = JSON.parse(writeRegistry(b)) as ChangeFile;
    return { summary, changes: [{ op: 'file', file }], touched: 'all', changedKeys };
  }
  return { summary, changes, touched, changedKeys };
}
