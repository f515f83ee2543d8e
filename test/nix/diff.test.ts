import { describe, expect, it } from 'vitest';
import type { ChangeSummary as RecordSummary } from '../../src/store/records.js';
import { diffRegistries } from '../../src/nix/diff.js';
import { applyChanges } from '../../src/nix/edit.js';
import type { Registry, RegistryEntry } from '../../src/nix/registry.js';
import { readRegistry, writeRegistry } from '../../src/nix/registry.js';
import { mulberry32 } from '../../scripts/bench/prng.js';
import { after, attrs, move, reg, remove, set } from './edit-helpers.js';
import type { E } from './lookup-helpers.js';

const A: E = ['a', '→', 'github:o/a'];
const B: E = ['b', '→', 'github:o/b'];
const C: E = ['c', '→', 'github:o/c'];
const D: E = ['d', '→', 'github:o/d'];

describe('diffRegistries', () => {
  it('summarises by from URL in the shape of a version record, marking exact entries', () => {
    const { summary } = diffRegistries(
      reg([A, B, C, D]),
      reg([['x', '→', 'path:/x'], C, A, ['b', '→', 'github:o/b2'], ['a', '⇒', 'path:/a']]),
    );
    const record: RecordSummary = summary;
    expect(record).toEqual({
      added: ['flake:x', 'flake:a (exact)'],
      removed: ['flake:d'],
      changed: ['flake:b'],
      moved: ['flake:c'],
    });
  });

  it('tells an exact and a non-exact entry with the same from apart', () => {
    const exact: E = ['nixpkgs', '⇒', 'path:/tarball'];
    const fallback: E = ['nixpkgs', '→', 'github:NixOS/nixpkgs'];
    const d = diffRegistries(reg([A, exact, B, fallback]), reg([A, fallback, exact, B]));
    expect(d.summary).toEqual({ added: [], removed: [], changed: [], moved: ['flake:nixpkgs'] });
    expect(d.changes).toEqual([{ op: 'move', from: attrs('nixpkgs'), position: { after: attrs('a') } }]);
    const exactMoved = diffRegistries(reg([exact, A, B]), reg([A, B, exact]));
    expect(exactMoved.summary.moved).toEqual(['flake:nixpkgs (exact)']);
    expect(exactMoved.changes).toEqual([
      { op: 'move', from: attrs('nixpkgs'), exact: true, position: { after: attrs('b') } },
    ]);
    const exactAnchor = diffRegistries(reg([exact, fallback, A]), reg([exact, A, fallback]));
    expect(exactAnchor.changes).toEqual([
      { op: 'move', from: attrs('a'), position: { after: attrs('nixpkgs'), exact: true } },
    ]);
  });

  it.each<[string, E[], E[], unknown[]]>([
    ['nothing for equal registries', [A, B], [A, B], []],
    ['a set after the previous entry for an addition', [A, B], [A, D, B], [set(D, after('a'))]],
    ['a set at the start for a new first entry', [A, B], [D, A, B], [set(D, 'start')]],
    ['an in-place set for a changed entry', [A, B], [A, ['b', '→', 'github:o/b2']], [set(['b', '→', 'github:o/b2'])]],
    [
      'a remove and a set for an entry that became exact (another entry)',
      [A, B],
      [A, ['b', '⇒', 'github:o/b']],
      [remove('b'), set(['b', '⇒', 'github:o/b'], after('a'))],
    ],
    [
      'an exact anchor and an exact remove',
      [
        ['a', '⇒', 'path:/a'],
        ['c', '⇒', 'path:/c'],
      ],
      [['a', '⇒', 'path:/a'], D],
      [{ op: 'remove', from: attrs('c'), exact: true }, set(D, { after: attrs('a'), exact: true })],
    ],
    ['a remove', [A, B, C], [A, C], [remove('b')]],
    ['one move for a rotated entry', [A, B, C, D], [B, C, D, A], [move('a', after('d'))]],
    [
      'a positioned set for an entry both moved and changed',
      [A, B],
      [['b', '→', 'path:/b'], A],
      [set(['b', '→', 'path:/b'], 'start')],
    ],
  ])('gives %s', (_, a, b, changes) => {
    expect(diffRegistries(reg(a), reg(b)).changes).toEqual(changes);
  });

  it('falls back to one file change when an edit would have to name a from and exactness two entries share', () => {
    const a = reg([A, ['a', '→', 'github:o/a1'], B]);
    const b = reg([A, B]);
    const d = diffRegistries(a, b);
    expect(d.changes.map((c) => c.op)).toEqual(['file']);
    const r = applyChanges(a, d.changes);
    expect(r.ok && writeRegistry(r.registry)).toBe(writeRegistry(b));
  });

  it('leaves entries that share a from alone when nothing names them', () => {
    const shared: E[] = [
      ['nixpkgs', '→', 'path:/first'],
      ['nixpkgs', '→', 'github:NixOS/nixpkgs'],
    ];
    const d = diffRegistries(reg([A, ...shared, B]), reg([A, C, ...shared]));
    expect(d.changes).toEqual([remove('b'), set(C, after('a'))]);
  });
});

/** Seeded random registries over a small pool of froms, so that edits collide. */
function randomRegistry(random: () => number, size: number, duplicates: boolean): Registry {
  const flakes: object[] = [];
  const used = new Set<string>();
  while (flakes.length < size) {
    const id = `f${Math.floor(random() * size * 2)}`;
    const ref = random() < 0.3 ? `r${Math.floor(random() * 3)}` : undefined;
    const key = `${id}/${ref}`;
    if (used.has(key) && !(duplicates && random() < 0.5)) continue;
    used.add(key);
    flakes.push({
      from: { type: 'indirect', id, ...(ref === undefined ? {} : { ref }) },
      to: {
        type: 'github',
        owner: `o${Math.floor(random() * 3)}`,
        repo: id,
        ...(random() < 0.2 ? { dir: 'sub' } : {}),
      },
      ...(random() < 0.3 ? { exact: true } : {}),
    });
  }
  return readRegistry(JSON.stringify({ version: 2, flakes }));
}

/**
 * `a` edited at random: some entries dropped, changed, shuffled, and new ones
 * added; read back from its file, so no entry object is shared with `a`.
 */
function edited(random: () => number, a: Registry, duplicates: boolean): Registry {
  return readRegistry(writeRegistry(editedSharing(random, a, duplicates)));
}

/** The same, keeping `a`'s entry objects where it keeps its entries, as versions of one registry do. */
function editedSharing(random: () => number, a: Registry, duplicates: boolean): Registry {
  const extra = randomRegistry(random, Math.floor(random() * 6), duplicates).entries;
  const kept: RegistryEntry[] = a.entries
    .filter(() => random() > 0.2)
    .map((e) => (random() < 0.2 ? { ...e, exact: !e.exact } : e));
  for (const e of extra) kept.splice(Math.floor(random() * (kept.length + 1)), 0, e);
  for (let i = 0; i < kept.length; i++) {
    if (random() < 0.15) {
      const j = Math.floor(random() * kept.length);
      [kept[i], kept[j]] = [kept[j] as RegistryEntry, kept[i] as RegistryEntry];
    }
  }
  return { entries: kept };
}

/** Length of a longest common subsequence, by the textbook table (small inputs only). */
function lcs(x: readonly string[], y: readonly string[]): number {
  const t = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = 1; i <= x.length; i++)
    for (let j = 1; j <= y.length; j++)
      (t[i] as number[])[j] =
        x[i - 1] === y[j - 1]
          ? ((t[i - 1] as number[])[j - 1] as number) + 1
          : Math.max((t[i - 1] as number[])[j] as number, (t[i] as number[])[j - 1] as number);
  return (t[x.length] as number[])[y.length] as number;
}

describe('diffRegistries on seeded random registries', () => {
  it.each(Array.from({ length: 300 }, (_, seed) => [seed]))('seed %i: its changes turn a into b', (seed) => {
    const random = mulberry32(seed);
    const duplicates = seed % 3 === 0;
    const a = randomRegistry(random, 1 + Math.floor(random() * 25), duplicates);
    const b = edited(random, a, duplicates);
    const d = diffRegistries(a, b);
    const r = applyChanges(a, d.changes);
    expect(r.ok && writeRegistry(r.registry)).toBe(writeRegistry(b));

    // Identity is the from and the exactness.
    const froms = (x: Registry) => x.entries.map((e) => JSON.stringify([e.from, e.exact]));
    const unique = (x: Registry) => new Set(froms(x)).size === x.entries.length;
    if (!unique(a) || !unique(b)) return;
    // Minimal: one change per added, removed or changed entry, and moves only outside a longest common subsequence.
    const inA = new Set(froms(a));
    const inB = new Set(froms(b));
    const common = (x: Registry, other: Set<string>) => froms(x).filter((f) => other.has(f));
    const mustMove = common(a, inB).length - lcs(common(a, inB), common(b, inA));
    expect(d.summary.moved).toHaveLength(mustMove);
    const touchedOnce = new Set([...d.summary.added, ...d.summary.removed, ...d.summary.changed, ...d.summary.moved]);
    expect(d.changes).toHaveLength(touchedOnce.size);
    expect(d.changes.every((c) => c.op !== 'file')).toBe(true);
  });
});

describe('diffRegistries of versions sharing entry objects', () => {
  const copy = (r: Registry) => readRegistry(writeRegistry(r));
  it.each(Array.from({ length: 300 }, (_, seed) => [seed]))(
    'seed %i: gives what it gives for copies that share nothing',
    (seed) => {
      const random = mulberry32(1000 + seed);
      const duplicates = seed % 3 === 0;
      const a = randomRegistry(random, 1 + Math.floor(random() * 40), duplicates);
      // Mostly small edits, as a proposal makes, so that long runs stay shared.
      const pick = random();
      const one = randomRegistry(random, 1, duplicates).entries;
      const at = Math.floor(random() * (a.entries.length + 1));
      const b =
        pick < 0.4
          ? editedSharing(random, a, duplicates)
          : pick < 0.7
            ? { entries: [...a.entries.slice(0, at), ...one, ...a.entries.slice(at)] }
            : { entries: a.entries.filter((_, i) => i !== at) };
      expect(diffRegistries(a, b)).toEqual(diffRegistries(copy(a), copy(b)));
    },
  );
});
