import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyChanges } from '../../src/nix/edit.js';
import { lintRegistry, newFindings } from '../../src/nix/lint.js';
import type { Finding } from '../../src/nix/lint.js';
import type { Registry } from '../../src/nix/registry.js';
import { readRegistry } from '../../src/nix/registry.js';
import type { EntryChange as Change } from '../../src/nix/changes.js';
import { CHANNEL_LAYOUT, attrs, chan, reg, set } from './edit-helpers.js';
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
      'a later exact entry with an equal from (another entry, so not a duplicate)',
      [
        ['a', '→', 'github:o/1'],
        ['a', '⇒', 'path:/2'],
      ],
      ['1 error shadowed'],
    ],
    [
      'a later exact entry with an equal from and exactness',
      [
        ['a', '⇒', 'github:o/1'],
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
      'a pinned entry after an equal pinned one of other exactness',
      [
        ['flake:a/dev', '⇒', 'path:/1'],
        ['flake:a/dev', '→', 'github:o/2'],
      ],
      ['1 error shadowed'],
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
      [],
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

/** What applying a change does to lint: the findings it introduces, or only the errors. */
function introduced(registry: Registry, changes: Change[], errorsOnly = true): string[] {
  const r = applyChanges(registry, changes);
  if (!r.ok) throw new Error(r.error.detail);
  return newFindings(lintRegistry(registry), lintRegistry(r.registry))
    .filter((f) => !errorsOnly || f.severity === 'error')
    .map((f) => `${f.kind} ${f.from}${f.exact ? ' (exact)' : ''}`);
}

/** What `query` resolves to in `registry` with `changes` applied. */
function resolvedAfter(registry: Registry, changes: Change[], query: string): string {
  const r = applyChanges(registry, changes);
  if (!r.ok) throw new Error(r.error.detail);
  return outcome(run(query, [{ name: 'g', version: 1, index: new RegistryIndex(r.registry) }]));
}

const NEW_CHANNEL: E = ['flake:nixpkgs/nixos-26.11', '⇒', chan('nixos-26.11')];
const FALLBACK_URL = 'github:NixOS/nixpkgs/nixpkgs-unstable';
/** The non-exact bare `nixpkgs`: a position or change that leaves `exact` out names it. */
const fallback = attrs('nixpkgs');

/**
 * The rules of the channel layout, for single-entry changes. A non-exact
 * entry without ref matches every ref form of its id, so every exact
 * `{id: nixpkgs, ref: X}` after it is unreachable; an exact bare `nixpkgs`
 * before it still takes the bare query.
 */
function channelLayoutRules(load: () => Registry, pinned: string[]) {
  const [first] = pinned as [string];
  const shadowedPinned = pinned.map((from) => `shadowed ${from} (exact)`);

  it('moving the fallback before the first pinned channel shadows every pinned channel', () => {
    const registry = load();
    const change: Change = { op: 'move', from: fallback, position: { before: attrs(first), exact: true } };
    expect(introduced(registry, [change]).sort()).toEqual(shadowedPinned.sort());
    // Every pinned channel now resolves through the fallback, as Nix would.
    expect(resolvedAfter(registry, [change], first)).toBe(`github:NixOS/nixpkgs/${String(attrs(first)['ref'])}`);
  });

  it('a new channel placed before the fallback lints clean and resolves to its tarball', () => {
    const registry = load();
    const change = set(NEW_CHANNEL, { before: fallback });
    expect(introduced(registry, [change], false)).toEqual([]);
    expect(resolvedAfter(registry, [change], 'nixpkgs/nixos-26.11')).toBe(chan('nixos-26.11'));
    expect(resolvedAfter(registry, [change], 'nixpkgs/other')).toBe('github:NixOS/nixpkgs/other');
  });

  it('a new channel placed at the end is shadowed by the fallback', () => {
    const registry = load();
    const change = set(NEW_CHANNEL, 'end');
    expect(introduced(registry, [change])).toEqual(['shadowed flake:nixpkgs/nixos-26.11 (exact)']);
    expect(resolvedAfter(registry, [change], 'nixpkgs/nixos-26.11')).toBe('github:NixOS/nixpkgs/nixos-26.11');
  });
}

describe('the channel layout (exact channel tarballs, then a non-exact fallback)', () => {
  it('lints clean as written', () => {
    expect(lintRegistry(reg(CHANNEL_LAYOUT))).toEqual([]);
  });
  channelLayoutRules(
    () => reg(CHANNEL_LAYOUT),
    ['flake:nixpkgs/nixos-25.05', 'flake:nixpkgs/nixos-25.11', 'flake:nixpkgs/nixos-unstable'],
  );
});

describe.skipIf(officialRegistryPath === undefined)('the official registry (test data)', () => {
  const load = () => readRegistry(readFileSync(officialRegistryPath as string, 'utf8'));
  // The tests are collected even when skipped: without the file there is nothing to read.
  const pinned =
    officialRegistryPath === undefined
      ? []
      : load()
          .entries.filter((e) => e.exact && e.from['id'] === 'nixpkgs' && e.from['ref'] !== undefined)
          .map((e) => `flake:nixpkgs/${String(e.from['ref'])}`);

  it('lints clean: its exact and non-exact bare nixpkgs are two entries, both reachable', () => {
    expect(lintRegistry(load())).toEqual([]);
    const index = new RegistryIndex(load());
    const layers = [{ name: 'g', version: 1, index }];
    expect(outcome(run('nixpkgs', layers))).toBe(chan('nixpkgs-unstable'));
    expect(outcome(run('nixpkgs/master', layers))).toBe('github:NixOS/nixpkgs/master');
  });

  it('has six pinned exact channels after its exact bare nixpkgs', () => {
    expect(pinned).toHaveLength(6);
  });
  channelLayoutRules(load, pinned);

  it('keeps the exact bare nixpkgs reachable when the fallback moves right after it', () => {
    const change: Change = {
      op: 'move',
      from: fallback,
      position: { before: attrs(pinned[0] as string), exact: true },
    };
    expect(resolvedAfter(load(), [change], 'nixpkgs')).toBe(chan('nixpkgs-unstable'));
  });

  it('shadows the exact bare nixpkgs too when the fallback moves before it', () => {
    const change: Change = { op: 'move', from: fallback, position: { before: fallback, exact: true } };
    expect(introduced(load(), [change])).toEqual([
      'shadowed flake:nixpkgs (exact)',
      ...pinned.map((from) => `shadowed ${from} (exact)`),
    ]);
    expect(resolvedAfter(load(), [change], 'nixpkgs')).toBe(FALLBACK_URL);
  });
});

describe('lintRegistry: what Nix would print or could not read', () => {
  const file = (entries: { from: unknown; to: unknown }[]) =>
    brief(lintRegistry(readRegistry(JSON.stringify({ version: 2, flakes: entries }))));
  const from = { type: 'indirect', id: 'x' };

  it.each([
    ['an escape in a github owner', { type: 'github', owner: 'o\u001b[31m', repo: 'r' }],
    ['a newline in a path', { type: 'path', path: '/srv/a\nb' }],
    ['a bidi override in a ref', { type: 'github', owner: 'o', repo: 'r', ref: 'main\u202e' }],
    ['a zero-width space in a dir', { type: 'github', owner: 'o', repo: 'r', dir: 'a\u200bb' }],
  ])('refuses %s: Nix prints attribute values as they are', (_, to) => {
    expect(file([{ from, to }])).toContain('0 error unsafe-text');
  });

  it('warns of a target of type file, which Nix 2.8 cannot show', () => {
    expect(file([{ from, to: { type: 'file', url: 'https://example.org/data.txt' } }])).toContain('0 warning old-nix');
  });

  it.each([
    ['tarball', 'javascript:alert(1)', "its 'to' url is a 'javascript:' URL, which Nix cannot fetch"],
    ['file', 'data:text/plain,hi', "its 'to' url is a 'data:' URL, which Nix cannot fetch"],
    ['tarball', 'ftp://example.org/a.tar.gz', "its 'to' url is a 'ftp:' URL"],
  ])('refuses a %s target at %s: Nix fetches those over http, https or file only', (type, url, message) => {
    const findings = lintRegistry(readRegistry(JSON.stringify({ version: 2, flakes: [{ from, to: { type, url } }] })));
    const found = findings.find((f) => f.kind === 'unfetchable-url');
    expect(found?.severity).toBe('error');
    expect(found?.message).toContain(message);
  });

  it.each(['https://example.org/a.tar.gz', 'HTTP://example.org/a.tar.gz', 'file:///srv/a.tar.gz'])(
    'takes a tarball at %s',
    (url) => {
      const findings = lintRegistry(
        readRegistry(JSON.stringify({ version: 2, flakes: [{ from, to: { type: 'tarball', url } }] })),
      );
      expect(findings.filter((f) => f.kind === 'unfetchable-url')).toEqual([]);
    },
  );

  it('finds neither in ordinary targets', () => {
    expect(file([{ from, to: { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-25.05' } }])).toEqual([]);
  });
});
