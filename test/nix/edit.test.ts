import { describe, expect, it } from 'vitest';
import { applyChanges } from '../../src/nix/edit.js';
import type { EditErrorKind } from '../../src/nix/edit.js';
import { writeRegistry } from '../../src/nix/registry.js';
import type { EntryChange as Change } from '../../src/nix/changes.js';
import { after, attrs, before, lines, move, reg, remove, set } from './edit-helpers.js';
import type { E } from './lookup-helpers.js';

const A: E = ['a', '→', 'github:o/a'];
const B: E = ['b', '→', 'github:o/b'];
const C: E = ['c', '→', 'github:o/c'];
const base = reg([A, B, C]);

function applied(changes: Change[]): string[] {
  const r = applyChanges(base, changes);
  if (!r.ok) throw new Error(r.error.detail);
  return lines(r.registry);
}

describe('applyChanges', () => {
  it.each<[string, Change[], string[]]>([
    ['adds a new entry at the end by default', [set(['d', '→', 'github:o/d'])], ['a', 'b', 'c', 'd']],
    ['adds a new entry at the start', [set(['d', '→', 'github:o/d'], 'start')], ['d', 'a', 'b', 'c']],
    ['adds a new entry after an anchor', [set(['d', '→', 'github:o/d'], after('a'))], ['a', 'd', 'b', 'c']],
    ['adds a new entry before an anchor', [set(['d', '→', 'github:o/d'], before('a'))], ['d', 'a', 'b', 'c']],
    ['replaces an entry in place', [set(['b', '→', 'github:o/b2'])], ['a', 'b', 'c']],
    [
      'adds an exact entry beside a non-exact one with the same from',
      [set(['b', '⇒', 'path:/b'])],
      ['a', 'b', 'c', 'b'],
    ],
    ['replaces and moves an entry when a position is given', [set(['b', '→', 'github:o/b'], 'end')], ['a', 'c', 'b']],
    ['removes an entry', [remove('b')], ['a', 'c']],
    ['moves an entry before another', [move('c', before('a'))], ['c', 'a', 'b']],
    ['moves an entry after the last one', [move('a', after('c'))], ['b', 'c', 'a']],
    ['applies changes in order', [remove('a'), set(['a', '→', 'github:o/a'], after('c'))], ['b', 'c', 'a']],
  ])('%s', (_, changes, ids) => {
    expect(applied(changes).map((l) => l.split(' ')[0]?.replace('flake:', ''))).toEqual(ids);
  });

  it('keeps the new target and dir of a replaced entry', () => {
    expect(applied([set(['b', '→', 'github:o/b2?dir=sub'])])[1]).toBe('flake:b → github:o/b2?dir=sub');
  });

  it('finds an entry whatever the attribute order or rev case of the named from', () => {
    const rev = 'A'.repeat(40);
    const pinned = reg([[`flake:p/${rev.toLowerCase()}`, '→', 'github:o/p']]);
    const r = applyChanges(pinned, [{ op: 'remove', from: { rev, id: 'p', type: 'indirect' } }]);
    expect(r.ok && r.registry.entries).toEqual([]);
  });

  it('replaces all entries with a file change', () => {
    const file = JSON.parse(writeRegistry(reg([C, A]))) as never;
    expect(applied([remove('b'), { op: 'file', file }])).toEqual(lines(reg([C, A])));
  });

  const dup = reg([A, ['a', '→', 'github:o/a-again'], B]);
  it.each<[string, Change[], EditErrorKind, number]>([
    ['removing a from no entry has', [remove('zz')], 'missing-entry', 0],
    ['moving a from no entry has', [move('zz', 'start')], 'missing-entry', 0],
    ['an anchor no entry has', [set(['d', '→', 'github:o/d'], after('zz'))], 'missing-anchor', 0],
    ['an anchor removed by an earlier change', [remove('a'), move('b', after('a'))], 'missing-anchor', 1],
    ['moving an entry next to itself', [move('b', after('b'))], 'self-anchor', 0],
    ['setting an entry next to itself', [set(B, before('b'))], 'self-anchor', 0],
    [
      'an entry Nix would not read',
      [{ op: 'set', entry: { from: { type: 'indirect', id: '1x' }, to: attrs('github:o/x') } }],
      'invalid-entry',
      0,
    ],
  ])('refuses %s', (_, changes, kind, index) => {
    const r = applyChanges(base, changes);
    expect(r.ok ? undefined : [r.error.kind, r.error.change]).toEqual([kind, index]);
  });

  it.each<[string, Change]>([
    ['set', set(['a', '→', 'github:o/z'])],
    ['remove', remove('a')],
    ['move', move('a', 'end')],
    ['an anchor', move('b', after('a'))],
  ])('refuses a %s naming a from and exactness two entries share, and edits the others', (_, change) => {
    const r = applyChanges(dup, [change]);
    expect(r.ok ? undefined : r.error.kind).toBe('duplicate-from');
    expect(r.ok ? undefined : r.error.detail).toContain("'flake:a'");
    expect(applyChanges(dup, [remove('b')]).ok).toBe(true);
  });

  describe('an exact and a non-exact entry with the same from', () => {
    const both = reg([['nixpkgs', '⇒', 'path:/tarball'], B, ['nixpkgs', '→', 'github:NixOS/nixpkgs']]);
    const edited = (changes: Change[]) => {
      const r = applyChanges(both, changes);
      if (!r.ok) throw new Error(r.error.detail);
      return lines(r.registry);
    };
    const exactly = (from: string) => ({ from: attrs(from), exact: true as const });

    it('replaces only the entry of the same exactness', () => {
      expect(edited([set(['nixpkgs', '→', 'github:NixOS/nixpkgs/other'])])).toEqual([
        'flake:nixpkgs ⇒ path:/tarball',
        'flake:b → github:o/b',
        'flake:nixpkgs → github:NixOS/nixpkgs/other',
      ]);
      expect(edited([set(['nixpkgs', '⇒', 'path:/other'])])[0]).toBe('flake:nixpkgs ⇒ path:/other');
    });

    it('removes and moves the one named, exact or not', () => {
      expect(edited([{ op: 'remove', ...exactly('nixpkgs') }])).toEqual([
        'flake:b → github:o/b',
        'flake:nixpkgs → github:NixOS/nixpkgs',
      ]);
      expect(edited([remove('nixpkgs')])).toEqual(['flake:nixpkgs ⇒ path:/tarball', 'flake:b → github:o/b']);
      expect(edited([move('nixpkgs', 'start')])[0]).toBe('flake:nixpkgs → github:NixOS/nixpkgs');
      expect(edited([{ op: 'move', ...exactly('nixpkgs'), position: 'end' }])[2]).toBe('flake:nixpkgs ⇒ path:/tarball');
    });

    it('anchors next to the one named, exact or not', () => {
      const d: E = ['d', '→', 'github:o/d'];
      expect(edited([set(d, { before: attrs('nixpkgs') })])[2]).toBe('flake:d → github:o/d');
      expect(edited([set(d, { after: attrs('nixpkgs'), exact: true })])[1]).toBe('flake:d → github:o/d');
    });

    it('refuses to name an exact entry that is not there, saying it is the exact one', () => {
      const r = applyChanges(reg([B]), [{ op: 'remove', ...exactly('b') }]);
      expect(r.ok ? undefined : r.error).toEqual({
        kind: 'missing-entry',
        change: 0,
        detail: "no entry is 'flake:b (exact)'",
      });
    });
  });

  it("refuses a file change Nix would read only in part, naming the entry and Nix's reason", () => {
    const file = {
      version: 2,
      flakes: [
        { from: attrs('a'), to: attrs('github:o/a') },
        { from: attrs('b'), to: attrs('github:o/b'), exact: 1 },
      ],
    };
    const r = applyChanges(base, [{ op: 'file', file: file as never }]);
    expect(r.ok ? undefined : r.error).toEqual({
      kind: 'invalid-entry',
      change: 0,
      detail:
        "invalid flake registry entry 1 (from 'flake:b'): [json.exception.type_error.302] type must be boolean, but is number",
    });
  });

  it('leaves the registry it was given unchanged', () => {
    const before = writeRegistry(base);
    applyChanges(base, [remove('a'), set(['d', '→', 'github:o/d'], 'start')]);
    expect(writeRegistry(base)).toBe(before);
  });
});
