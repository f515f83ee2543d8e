import { describe, expect, it } from 'vitest';
import { changeSchema, type Change } from '../../src/protocol/changes.js';
import type { Proposal } from '../../src/protocol/proposal.js';
import { replay } from '../../src/protocol/review.js';

const from = { type: 'indirect', id: 'nixpkgs', ref: 'nixos-25.05' };
const to = { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-25.05', dir: 'lib' };

describe('changeSchema', () => {
  it.each([
    ['a set with a position', { op: 'set', entry: { from, to, exact: true }, position: { after: from } }],
    ['a set without a position', { op: 'set', entry: { from, to } }],
    ['a remove', { op: 'remove', from }],
    ['a remove of the exact entry', { op: 'remove', from, exact: true }],
    ['a move of the exact entry', { op: 'move', from, exact: true, position: 'end' }],
    ['a position anchored at an exact entry', { op: 'move', from, position: { before: from, exact: true } }],
    ['a set anchored after an exact entry', { op: 'set', entry: { from, to }, position: { after: from, exact: true } }],
    ['a move to the start', { op: 'move', from, position: 'start' }],
    [
      'a whole file, unknown keys kept as Nix ignores them',
      { op: 'file', file: { version: 2, flakes: [{ from, to, note: 1 }], x: 1 } },
    ],
    ['an empty file as Nix writes it', { op: 'file', file: { version: 2, flakes: null } }],
    ['a policy', { op: 'policy', policy: { keys: ['alice:AAAA'], threshold: 1 } }],
  ])('accepts %s', (_, change) => {
    expect(changeSchema.safeParse(change).success).toBe(true);
  });

  it.each([
    ['an unknown field on a change', { op: 'remove', from, why: 'x' }],
    ['an unknown field in an entry', { op: 'set', entry: { from, to, note: 'x' } }],
    ['exact: false (non-exact entries leave it out)', { op: 'set', entry: { from, to, exact: false } }],
    ['a move without a position', { op: 'move', from }],
    ['exact: false on a remove', { op: 'remove', from, exact: false }],
    ['exact: false on a move', { op: 'move', from, exact: false, position: 'end' }],
    ['exact: false on an anchor', { op: 'move', from, position: { after: from, exact: false } }],
    ['an unknown field on an anchor', { op: 'move', from, position: { after: from, dir: 'x' } }],
    ['an unknown position', { op: 'move', from, position: 'middle' }],
    ['a position with both before and after', { op: 'move', from, position: { before: from, after: from } }],
    ['an unknown op', { op: 'rename', from }],
    ['a policy with an extra field', { op: 'policy', policy: { keys: [], threshold: 1, x: 1 } }],
    ['a file of another version', { op: 'file', file: { version: 1, flakes: [] } }],
  ])('refuses %s', (_, change) => {
    expect(changeSchema.safeParse(change).success).toBe(false);
  });

  it("refuses an entry Nix would not read, with Nix's reason", () => {
    const r = changeSchema.safeParse({ op: 'set', entry: { from: { type: 'indirect', id: 'x', url: 'u' }, to } });
    expect(r.error?.issues[0]?.message).toBe(
      "invalid flake registry entry (from 'flake:x'): input attribute 'url' not supported by scheme 'indirect'",
    );
  });

  it('refuses a file Nix would read only in part, naming the entry', () => {
    const file = {
      version: 2,
      flakes: [
        { from, to },
        { from: { type: 'indirect', id: 'b' }, to: { type: 'path' } },
      ],
    };
    const r = changeSchema.safeParse({ op: 'file', file });
    expect(r.error?.issues[0]?.message).toMatch(/^invalid flake registry entry 1 \(from 'flake:b'\): /);
  });
});

describe('replay', () => {
  const registry = { entries: [] };
  const proposal = (changes: Change[]): Proposal => ({
    registry: 'global',
    base: 1,
    changes,
    message: 'test',
    created: '2026-01-01T00:00:00Z',
    expires: '2026-01-02T00:00:00Z',
  });

  it('applies the entry changes and leaves a policy change to the protocol', () => {
    const result = replay(
      registry,
      1,
      { version: 1, registry },
      proposal([
        { op: 'policy', policy: { keys: ['alice:AAAA'], threshold: 1 } },
        { op: 'set', entry: { from, to } },
      ]),
    );
    expect(result.ok && result.summary.added).toEqual(['flake:nixpkgs/nixos-25.05']);
  });

  it('names a failing change by its index among all the changes, policy changes counted', () => {
    const result = replay(
      registry,
      1,
      { version: 1, registry },
      proposal([
        { op: 'policy', policy: { keys: ['alice:AAAA'], threshold: 1 } },
        { op: 'remove', from },
      ]),
    );
    expect(!result.ok && result.reason === 'invalid-change' && result.error.change).toBe(1);
  });
});
