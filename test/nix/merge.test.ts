import { describe, expect, it } from 'vitest';
import { mergeChanges } from '../../src/nix/merge.js';
import type { MergeResult } from '../../src/nix/merge.js';
import { writeRegistry } from '../../src/nix/registry.js';
import type { EntryChange as Change } from '../../src/nix/changes.js';
import { after, lines, move, reg, remove, set } from './edit-helpers.js';
import type { E } from './lookup-helpers.js';

const A: E = ['a', '→', 'github:o/a'];
const B: E = ['b', '→', 'github:o/b'];
const C: E = ['c', '→', 'github:o/c'];
const D: E = ['d', '→', 'github:o/d'];
const X: E = ['x', '→', 'github:o/x'];
const base = reg([A, B, C]);

const ids = (m: MergeResult) => (m.ok ? lines(m.registry).map((l) => l.split(' ')[0]) : m);

describe('mergeChanges', () => {
  it('applies the changes to the head when the proposal was written against it', () => {
    const m = mergeChanges(base, base, [set(D, after('a'))], true);
    expect(ids(m)).toEqual(['flake:a', 'flake:d', 'flake:b', 'flake:c']);
    expect(m.ok && m.summary).toEqual({ added: ['flake:d'], removed: [], changed: [], moved: [] });
  });

  it('rebases onto a newer head when the entries it touches did not change', () => {
    const head = reg([A, B, C, X]);
    const m = mergeChanges(base, head, [set(D, after('a')), remove('c')], false);
    expect(ids(m)).toEqual(['flake:a', 'flake:d', 'flake:b', 'flake:x']);
    expect(m.ok && m.summary).toEqual({ added: ['flake:d'], removed: ['flake:c'], changed: [], moved: [] });
  });

  it.each<[string, E[], Change[], string[]]>([
    ['the head changed the same entry', [A, ['b', '⇒', 'github:o/b2'], C], [set(['b', '→', 'path:/b'])], ['flake:b']],
    ['the head removed the same entry', [A, C], [move('b', 'start')], ['flake:b']],
    ['the head removed the anchor', [B, C], [set(D, after('a'))], ['flake:a']],
    ['the head moved the anchor', [B, C, A], [set(D, after('a'))], ['flake:a']],
    ['both added the same from', [A, B, C, D], [set(['d', '→', 'path:/d'])], ['flake:d']],
  ])('reports a conflict when %s', (_, head, changes, entries) => {
    expect(mergeChanges(base, reg(head), changes, false)).toEqual({ ok: false, reason: 'conflict', entries });
  });

  it('rebases a whole-file upload as the changes it makes against its base', () => {
    const upload = JSON.parse(writeRegistry(reg([A, B, C, D]))) as never;
    const head = reg([X, A, B, C]);
    const m = mergeChanges(base, head, [{ op: 'file', file: upload }], false);
    expect(ids(m)).toEqual(['flake:x', 'flake:a', 'flake:b', 'flake:c', 'flake:d']);
  });

  it('does not let a stale upload undo what the head changed since', () => {
    const upload = JSON.parse(writeRegistry(reg([A, B]))) as never;
    const head = reg([A, B, ['c', '⇒', 'github:o/c2']]);
    expect(mergeChanges(base, head, [{ op: 'file', file: upload }], false)).toEqual({
      ok: false,
      reason: 'conflict',
      entries: ['flake:c'],
    });
  });

  it('reports a change that cannot apply to its own base as invalid', () => {
    const m = mergeChanges(base, reg([A]), [remove('zz')], false);
    expect(m).toMatchObject({ ok: false, reason: 'invalid-change', error: { kind: 'missing-entry', change: 0 } });
  });

  it('gives the same bytes every time', () => {
    const head = reg([A, B, C, X]);
    const run = () => {
      const m = mergeChanges(base, head, [set(D, 'start'), move('c', after('a'))], false);
      return m.ok ? writeRegistry(m.registry) : '';
    };
    expect(run()).toBe(run());
    expect(run()).not.toBe('');
  });
});
