import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyChanges } from '../../src/nix/edit.js';
import { lintRegistry, newFindings } from '../../src/nix/lint.js';
import type { Finding } from '../../src/nix/lint.js';
import type { Registry, RegistryEntry } from '../../src/nix/registry.js';
import { readRegistry, writeRegistry } from '../../src/nix/registry.js';
import { attrsEqual } from '../../src/nix/attrs.js';
import type { Change, ChangeFile } from '../../src/protocol/changes.js';
import { CHANNEL_LAYOUT, after, attrs, before, chan, move, reg, set } from './edit-helpers.js';
import type { E } from './lookup-helpers.js';
import { layer, outcome, run } from './lookup-helpers.js';
import { RegistryIndex } from '../../src/nix/lookup.js';
import { officialRegistryPath } from './official-registry.js';

const REV = '26d85eb2806b255191d2df4bac61cb489c6000ce';
const brief = (fs: Finding[]) => fs.map((f) => `${f.entry} ${f.severity} ${f.kind}`);
const lint = (entries: E[]) => brief(lintRegistry(reg(entries)));

describe('lintRegistry: shadowing', () => {
  it.each<[string, E[], string[]]>([
    [
      'a later exact entry with an equal from',
      [
        ['a', '→', 'github:o/1'],
        ['a', '⇒', 'path:/2'],
      ],
      ['1 error duplicate-from', '1 error shadowed'],
    ],
    [
      'a later non-exact entry with an equal from',
      [
        ['a', '→', 'github:o/a'],
        ['a', '→', 'github:o/b'],
      ],
      ['1 error duplicate-from', '1 error shadowed'],
    ],
    [
      'a pinned entry after a non-exact ref-free one',
      [
        ['a', '→', 'github:o/a'],
        ['flake:a/dev', '⇒', 'path:/d'],
      ],
      ['1 error shadowed'],
    ],
    [
      'a rev-pinned non-exact entry after a non-exact ref-free one',
      [
        ['a', '→', 'github:o/a'],
        [`flake:a/${REV}`, '→', 'github:o/x'],
      ],
      ['1 error shadowed'],
    ],
    [
      'a pinned entry after an equal pinned one',
      [
        ['flake:a/dev', '⇒', 'path:/1'],
        ['flake:a/dev', '→', 'github:o/2'],
      ],
      ['1 error duplicate-from', '1 error shadowed'],
    ],
  ])('flags %s as shadowed', (_, entries, expected) => {
    expect(lint(entries)).toEqual(expected);
  });

  it.each<[string, E[], string[]]>([
    [
      'a non-exact ref-free entry after an exact one with an equal from: refs still reach it',
      [
        ['a', '⇒', 'path:/1'],
        ['a', '→', 'github:o/a'],
      ],
      ['1 error duplicate-from'],
    ],
    [
      'a ref-free entry after pinned ones',
      [
        ['flake:a/dev', '⇒', 'path:/d'],
        ['a', '→', 'github:o/a'],
      ],
      [],
    ],
    [
      'a pinned entry after an exact ref-free one',
      [
        ['a', '⇒', 'path:/1'],
        ['flake:a/dev', '⇒', 'path:/d'],
      ],
      [],
    ],
    [
      'a pinned entry after a differently pinned non-exact one',
      [
        ['flake:a/x', '→', 'github:o/a'],
        ['flake:a/dev', '⇒', 'path:/d'],
      ],
      [],
    ],
    [
      'entries of another id or type',
      [
        ['a', '→', 'github:o/a'],
        ['b', '⇒', 'path:/b'],
        ['github:o/a', '→', 'github:o/c'],
      ],
      [],
    ],
  ])('does not flag %s', (_, entries, expected) => {
    expect(lint(entries)).toEqual(expected);
  });

  it('agrees with lookup: every query reaching the group finds the earlier entry', () => {
    const layers = [
      layer('g', [
        ['a', '→', 'hg+https://e.org/a'],
        ['flake:a/dev', '⇒', 'path:/d'],
      ]),
    ];
    for (const q of ['a', 'a/dev', `a/${REV}`, `a/dev/${REV}`]) expect(run(q, layers).steps[0]?.index).toBe(0);
  });
});

describe('lintRegistry: chains and overrides', () => {
  it.each<[string, E[], string[]]>([
    [
      'a cycle, at every entry on it',
      [
        ['a', '→', 'flake:b'],
        ['b', '→', 'flake:a'],
      ],
      ['0 error cycle', '1 error cycle'],
    ],
    ['an exact self-loop', [['a', '⇒', 'flake:a']], ['0 error cycle']],
    ['an indirect target no entry defines', [['a', '→', 'flake:nope']], ['0 warning dangling']],
    [
      'an indirect target only a pinned entry defines',
      [
        ['a', '→', 'flake:b'],
        ['flake:b/x', '⇒', 'path:/b'],
      ],
      ['0 warning dangling'],
    ],
    [
      'a non-exact tarball target (ref and rev)',
      [['a', '→', 'https://e.org/a.tar.gz']],
      ['0 warning override-ref', '0 warning override-rev'],
    ],
    [
      'a non-exact path target (ref and rev)',
      [['a', '→', 'path:/a']],
      ['0 warning override-ref', '0 warning override-rev'],
    ],
    [
      'a non-exact git target without a ref (rev only)',
      [['a', '→', 'git+https://e.org/a']],
      ['0 warning override-rev'],
    ],
    ['only the rev when the from pins the ref', [['flake:a/dev', '→', 'path:/a']], ['0 warning override-rev']],
  ])('reports %s', (_, entries, expected) => {
    expect(lint(entries)).toEqual(expected);
  });

  it.each<[string, E[]]>([
    [
      'a chain that ends',
      [
        ['a', '→', 'flake:b'],
        ['b', '→', 'github:o/b'],
      ],
    ],
    [
      'exact tarball and path targets',
      [
        ['a', '⇒', 'https://e.org/a.tar.gz'],
        ['b', '⇒', 'path:/b'],
      ],
    ],
    ['a git target with a ref', [['a', '→', 'git+https://e.org/a?ref=main']]],
    [
      'github and indirect targets',
      [
        ['a', '→', 'github:o/a'],
        ['b', '→', 'flake:a'],
      ],
    ],
  ])('finds nothing in %s', (_, entries) => {
    expect(lint(entries)).toEqual([]);
  });

  it("carries Nix's texts and the entry's from", () => {
    const [cycle, dangling, override] = lintRegistry(
      reg([
        ['a', '→', 'flake:a'],
        ['b', '→', 'flake:nope'],
        ['flake:c/dev', '→', 'path:/c'],
      ]),
    );
    expect(cycle).toMatchObject({ from: 'flake:a', message: "cycle detected in flake registry for 'flake:a'" });
    expect(dangling?.message).toMatch(/^cannot find flake 'flake:nope' in the flake registries/);
    expect(override?.message).toContain("don't know how to set revision of input 'path:/c'");
  });
});

describe('newFindings', () => {
  it('keeps only findings of a kind and from the registry did not already have', () => {
    const old = lintRegistry(reg([['a', '→', 'path:/a']]));
    const now = lintRegistry(
      reg([
        ['x', '→', 'github:o/x'],
        ['a', '→', 'path:/a'],
        ['b', '→', 'flake:nope'],
      ]),
    );
    expect(brief(newFindings(old, now))).toEqual(['2 warning dangling']);
  });
});

/** What applying a change does to lint: the errors it introduces. */
function introducedErrors(registry: Registry, changes: Change[]): string[] {
  const r = applyChanges(registry, changes);
  if (!r.ok) throw new Error(r.error.detail);
  return newFindings(lintRegistry(registry), lintRegistry(r.registry))
    .filter((f) => f.severity === 'error')
    .map((f) => `${f.kind} ${f.from}`);
}

const NEW_CHANNEL: E = ['flake:nixpkgs/nixos-26.11', '⇒', chan('nixos-26.11')];

/** The registry with its non-exact `nixpkgs` fallback moved to just before `firstExact`, as a whole-file change. */
function fallbackFirst(registry: Registry, firstExact: string): Change {
  const isFallback = (e: RegistryEntry) => !e.exact && attrsEqual(e.from, attrs('nixpkgs'));
  const fallback = registry.entries.find(isFallback) as RegistryEntry;
  const rest = registry.entries.filter((e) => !isFallback(e));
  const at = rest.findIndex((e) => attrsEqual(e.from, attrs(firstExact)));
  const entries = [...rest.slice(0, at), fallback, ...rest.slice(at)];
  return { op: 'file', file: JSON.parse(writeRegistry({ entries })) as ChangeFile };
}

/**
 * The official file has an exact `nixpkgs` and the non-exact fallback with an
 * equal `from`, so a single-entry change cannot name either of them: the
 * fallback is moved by a whole-file change, and a new channel is anchored
 * after the last exact channel.
 */
function channelLayoutRules(load: () => Registry, exactCount: number, firstExact: string, lastExact: string) {
  it('moving the fallback above the exact channels shadows every one of them', () => {
    const registry = load();
    const errors = introducedErrors(registry, [fallbackFirst(registry, firstExact)]);
    expect(errors).toHaveLength(exactCount);
    expect(new Set(errors.map((e) => e.split(' ')[0]))).toEqual(new Set(['shadowed']));
  });

  it('a new channel placed before the fallback lints clean and resolves', () => {
    const registry = load();
    const change = set(NEW_CHANNEL, after(lastExact));
    expect(introducedErrors(registry, [change])).toEqual([]);
    const r = applyChanges(registry, [change]);
    const index = r.ok ? new RegistryIndex(r.registry) : undefined;
    expect(outcome(run('nixpkgs/nixos-26.11', [{ name: 'g', version: 1, index: index! }]))).toBe(chan('nixos-26.11'));
  });

  it('a new channel placed at the end is shadowed by the fallback', () => {
    expect(introducedErrors(load(), [set(NEW_CHANNEL, 'end')])).toEqual(['shadowed flake:nixpkgs/nixos-26.11']);
  });
}

describe('the channel layout (exact channel tarballs, then a non-exact fallback)', () => {
  it('lints clean as written', () => {
    expect(lintRegistry(reg(CHANNEL_LAYOUT))).toEqual([]);
  });
  channelLayoutRules(() => reg(CHANNEL_LAYOUT), 3, 'flake:nixpkgs/nixos-25.05', 'flake:nixpkgs/nixos-unstable');

  it('lets single-entry changes name the fallback when its from is unique', () => {
    const registry = reg(CHANNEL_LAYOUT);
    expect(introducedErrors(registry, [set(NEW_CHANNEL, before('nixpkgs'))])).toEqual([]);
    expect(introducedErrors(registry, [move('nixpkgs', before('flake:nixpkgs/nixos-25.05'))])).toHaveLength(3);
  });
});

describe.skipIf(officialRegistryPath === undefined)('the official registry (test data)', () => {
  const load = () => readRegistry(readFileSync(officialRegistryPath as string, 'utf8'));

  it('has only the duplicate from of its exact and non-exact nixpkgs', () => {
    expect(lintRegistry(load()).map((f) => `${f.kind} ${f.from}`)).toEqual(['duplicate-from flake:nixpkgs']);
  });
  channelLayoutRules(load, 7, 'nixpkgs', 'flake:nixpkgs/nixpkgs-26.05-darwin');

  it('refuses a single-entry change naming the shared nixpkgs from', () => {
    const r = applyChanges(load(), [move('nixpkgs', 'start')]);
    expect(r.ok || r.error.kind).toBe('duplicate-from');
  });
});
