import { describe, expect, it } from 'vitest';
import { RegistryIndex } from '../../src/nix/lookup.js';
import { readRegistry } from '../../src/nix/registry.js';
import { layer, outcome, run, type E } from './lookup-helpers.js';

const REV = '26d85eb2806b255191d2df4bac61cb489c6000ce';
const A = 'git+file:///srv/a';

const aTable: E[] = [
  ['amain', '→', `${A}?ref=main`],
  ['a', '→', A],
  ['asub', '→', `${A}?dir=sub`],
  ['chain', '→', 'flake:a'],
  ['exa', '⇒', `${A}?ref=dev`],
  [`flake:pinned/dev`, '→', `${A}?ref=main`],
  ['gh', '→', 'github:NixOS/nixpkgs/nixpkgs-unstable'],
  ['first', '→', `${A}?ref=main`],
  ['first', '→', `${A}?ref=dev`],
];

describe('resolve: the lookup rules (src/libfetchers/registry.cc) (A = git+file:///srv/a)', () => {
  const layers = [layer('global', aTable)];
  it.each([
    ['amain/dev', `${A}?ref=dev`],
    [`a/main/${REV}`, `${A}?ref=main&rev=${REV}`],
    [`a/${REV}`, `override: Git input '${A}?rev=${REV}' has a commit hash but no branch/tag name`],
    ['asub/dev', `${A}?dir=sub&ref=dev`],
    ['chain/dev', `${A}?ref=dev`],
    ['exa/main', "not-found: cannot find flake 'flake:exa/main' in the flake registries"],
    ['exa', `${A}?ref=dev`],
    ['pinned', "not-found: cannot find flake 'flake:pinned' in the flake registries"],
    ['pinned/dev', `${A}?ref=main`],
    [`gh/${REV}`, `github:NixOS/nixpkgs/${REV}`],
    ['gh/master', 'github:NixOS/nixpkgs/master'],
    ['first', `${A}?ref=main`],
    ['first/x', `${A}?ref=x`],
    ['nope/dev', "not-found: cannot find flake 'flake:nope/dev' in the flake registries"],
  ])('%s → %s', (query, expected) => {
    expect(outcome(run(query, layers))).toBe(expected);
  });
});

describe('resolve: cycles and the 100-lookup limit', () => {
  const chain = (hops: number): E[] => [
    ...Array.from({ length: hops - 1 }, (_, i): E => [`c${i}`, '→', `flake:c${i + 1}`]),
    [`c${hops - 1}`, '→', 'path:/srv/end'],
  ];

  it('reports a 3-cycle at the input reached after 100 hops', () => {
    const r = run('a', [
      layer('g', [
        ['a', '→', 'flake:b'],
        ['b', '→', 'flake:c'],
        ['c', '→', 'flake:a'],
      ]),
    ]);
    expect(outcome(r)).toBe("cycle: cycle detected in flake registry for 'flake:b'");
    expect(r.steps).toHaveLength(100);
  });

  it('reports an exact self-loop', () => {
    expect(outcome(run('a', [layer('g', [['a', '⇒', 'flake:a']])]))).toBe(
      "cycle: cycle detected in flake registry for 'flake:a'",
    );
  });

  // Checked against Nix 2.8: 99 hops resolve; after the 100th the counter
  // reaches 101 before the registries are searched again, even with nothing left.
  it('resolves a chain of 99 hops', () => {
    const r = run('c0', [layer('g', chain(99))]);
    expect(outcome(r)).toBe('path:/srv/end');
    expect(r.steps).toHaveLength(99);
  });

  it('fails a chain of 100 hops, naming the input after the last hop', () => {
    expect(outcome(run('c0', [layer('g', chain(100))]))).toBe(
      "cycle: cycle detected in flake registry for 'path:/srv/end'",
    );
  });

  it('carries ref and rev through a cycle into the error text', () => {
    expect(
      outcome(
        run('a/dev', [
          layer('g', [
            ['a', '→', 'flake:b'],
            ['b', '→', 'flake:a'],
          ]),
        ]),
      ),
    ).toBe("cycle: cycle detected in flake registry for 'flake:a/dev'");
  });
});

describe('resolve: ref and rev applied to each target type', () => {
  const targets: E[] = [
    ['gh', '→', 'github:NixOS/nixpkgs/nixpkgs-unstable'],
    ['ghrev', '→', `github:o/r/${REV}`],
    ['gl', '→', 'gitlab:o/r'],
    ['sh', '→', 'sourcehut:~o/r'],
    ['g', '→', 'git+https://example.org/r'],
    ['grev', '→', `git+https://example.org/r?rev=${REV}`],
    ['grevx', '⇒', `git+https://example.org/r?rev=${REV}`],
    ['h', '→', 'hg+https://example.org/r'],
    ['p', '→', 'path:/srv/p'],
    ['t', '→', 'https://example.org/x.tar.gz'],
    ['f', '→', 'file+https://example.org/x.txt'],
    ['i', '→', 'flake:gh'],
  ];
  const layers = [layer('g', targets)];
  const tarball = 'https://example.org/x.tar.gz';
  it.each([
    ['gh/main', 'github:NixOS/nixpkgs/main'],
    [
      `gh/main/${REV}`,
      `override: cannot apply both a commit hash (${REV}) and a branch/tag name ('main') to input 'github:NixOS/nixpkgs/nixpkgs-unstable'`,
    ],
    ['ghrev/main', 'github:o/r/main'],
    [`ghrev`, `github:o/r/${REV}`],
    [`gl/${REV}`, `gitlab:o/r/${REV}`],
    ['sh/main', 'sourcehut:~o/r/main'],
    ['g/main', 'git+https://example.org/r?ref=main'],
    [`g/main/${REV}`, `git+https://example.org/r?ref=main&rev=${REV}`],
    [`g/${REV}`, `override: Git input 'git+https://example.org/r?rev=${REV}' has a commit hash but no branch/tag name`],
    // git's applyOverrides checks the target even when nothing is applied; an exact hop skips it.
    ['grev', `override: Git input 'git+https://example.org/r?rev=${REV}' has a commit hash but no branch/tag name`],
    ['grevx', `git+https://example.org/r?rev=${REV}`],
    [`h/main/${REV}`, `hg+https://example.org/r?ref=main&rev=${REV}`],
    [`h/${REV}`, `hg+https://example.org/r?rev=${REV}`],
    ['p', 'path:/srv/p'],
    ['p/main', "override: don't know how to set branch/tag name of input 'path:/srv/p' to 'main'"],
    [`p/${REV}`, `override: don't know how to set revision of input 'path:/srv/p' to '${REV}'`],
    ['t/x', `override: don't know how to set branch/tag name of input '${tarball}' to 'x'`],
    [`t/${REV}`, `override: don't know how to set revision of input '${tarball}' to '${REV}'`],
    [`t/x/${REV}`, `override: don't know how to set branch/tag name of input '${tarball}' to 'x'`],
    // Nix prints file and tarball inputs by their bare URL (CurlInputScheme::toURL).
    ['f/x', "override: don't know how to set branch/tag name of input 'https://example.org/x.txt' to 'x'"],
    [`i/${REV}`, `github:NixOS/nixpkgs/${REV}`],
    ['i/main', 'github:NixOS/nixpkgs/main'],
  ])('%s → %s', (query, expected) => {
    expect(outcome(run(query, layers))).toBe(expected);
  });

  it('keeps the hops made before an override error', () => {
    const r = run(`i/main/${REV}`, layers);
    expect(r.ok).toBe(false);
    expect(r.steps.map((s) => s.index)).toEqual([11]);
    expect(r.steps[0]?.to).toEqual({ type: 'indirect', id: 'gh', ref: 'main', rev: REV });
  });
});

describe('resolve: which entry matches', () => {
  it.each<[string, E[], string]>([
    ['x/dev', [['flake:x/dev', '→', 'github:o/r']], 'github:o/r'],
    [
      'x/other',
      [['flake:x/dev', '→', 'github:o/r']],
      "not-found: cannot find flake 'flake:x/other' in the flake registries",
    ],
    [`x/${REV}`, [[`flake:x/${REV}`, '→', 'github:o/r/main']], 'github:o/r/main'],
    [
      `x/main/${REV}`,
      [[`flake:x/${REV}`, '→', 'github:o/r/main']],
      `not-found: cannot find flake 'flake:x/main/${REV}' in the flake registries`,
    ],
    [
      `x/dev/${REV}`,
      [['flake:x/dev', '→', 'github:o/r']],
      `not-found: cannot find flake 'flake:x/dev/${REV}' in the flake registries`,
    ],
    ['x', [['flake:x/dev', '⇒', 'github:o/r']], "not-found: cannot find flake 'flake:x' in the flake registries"],
    // File order decides between exact and non-exact entries alike.
    [
      'n/foo',
      [
        ['n', '→', 'github:o/r'],
        ['n/foo', '⇒', 'path:/pinned'],
      ],
      'github:o/r/foo',
    ],
    [
      'n/foo',
      [
        ['n/foo', '⇒', 'path:/pinned'],
        ['n', '→', 'github:o/r'],
      ],
      'path:/pinned',
    ],
    // An indirect target's own ref wins over nothing, and is then looked up again.
    [
      'stable',
      [
        ['stable', '→', 'flake:n/nixos-25.05'],
        ['n/nixos-25.05', '⇒', 'path:/chan'],
        ['n', '→', 'github:o/r'],
      ],
      'path:/chan',
    ],
    [
      'stable/x',
      [
        ['stable', '→', 'flake:n/nixos-25.05'],
        ['n/nixos-25.05', '⇒', 'path:/chan'],
        ['n', '→', 'github:o/r'],
      ],
      'github:o/r/x',
    ],
    // Direct refs are looked up too, and a direct `from` matches on a later hop.
    [
      'a',
      [
        ['a', '→', 'github:o/r'],
        ['github:o/r', '→', 'github:fork/r'],
      ],
      'github:fork/r',
    ],
    ['github:o/r/dev', [['github:o/r', '→', 'github:fork/r']], 'github:fork/r/dev'],
    ['github:o/r', [['github:o/other', '→', 'github:fork/r']], 'github:o/r'],
  ])('%s with %j → %s', (query, entries, expected) => {
    expect(outcome(run(query, [layer('g', entries)]))).toBe(expected);
  });

  it('searches layers in order and restarts from the first after every hop', () => {
    const flag = layer('flag', [['b', '→', 'github:flag/b']], 3);
    const global = layer(
      'global',
      [
        ['a', '→', 'flake:b'],
        ['b', '→', 'github:global/b'],
        ['c', '→', 'github:global/c'],
      ],
      7,
    );
    expect(outcome(run('a', [flag, global]))).toBe('github:flag/b');
    expect(outcome(run('c', [flag, global]))).toBe('github:global/c');
    expect(run('a', [flag, global]).steps.map((s) => [s.registry, s.version, s.index])).toEqual([
      ['global', 7, 0],
      ['flag', 3, 0],
    ]);
  });

  it('answers not found with no layers, and a direct ref unchanged', () => {
    expect(outcome(run('a', []))).toBe("not-found: cannot find flake 'flake:a' in the flake registries");
    const r = run('github:o/r?dir=x', []);
    expect(r).toMatchObject({ ok: true, steps: [] });
    expect(outcome(r)).toBe('github:o/r?dir=x');
  });

  it('compares attribute values with their types', () => {
    const registry = {
      entries: [{ from: { type: 'path', path: '/p', revCount: 1 }, to: { type: 'path', path: '/q' }, exact: false }],
    };
    const index = new RegistryIndex(registry);
    expect(index.find({ type: 'path', path: '/p', revCount: '1' })).toBeUndefined();
    expect(index.find({ type: 'path', path: '/p', revCount: 1 })?.position).toBe(0);
  });
});

describe('resolve: dir', () => {
  const layers = [
    layer('g', [
      ['asub', '→', `${A}?dir=sub`],
      ['subchain', '→', 'flake:asub'],
      ['dsub', '→', 'flake:clear?dir=sub'],
      ['clear', '→', A],
    ]),
    // A flake reference cannot carry an empty dir; a registry file can.
    {
      name: 'files',
      version: 1,
      index: new RegistryIndex(
        readRegistry(
          '{"version":2,"flakes":[{"from":{"type":"indirect","id":"empty"},"to":{"type":"git","url":"file:///srv/a","dir":""}}]}',
        ),
      ),
    },
  ];
  // Each checked against Nix 2.8's `nix flake metadata --json` resolvedUrl.
  it.each([
    ['flake:asub?dir=other', `${A}?dir=sub`],
    ['flake:subchain?dir=x', `${A}?dir=sub`],
    ['dsub', A],
    ['flake:dsub?dir=q', `${A}?dir=q`],
    ['flake:clear?dir=sub', `${A}?dir=sub`],
    ['flake:empty?dir=sub', A],
  ])('%s → %s', (query, expected) => {
    expect(outcome(run(query, layers))).toBe(expected);
  });

  it('records every hop with its dir and the input after it', () => {
    expect(run('dsub/dev', layers).steps).toEqual([
      {
        registry: 'g',
        version: 1,
        index: 2,
        exact: false,
        from: { type: 'indirect', id: 'dsub' },
        to: { type: 'indirect', id: 'clear', ref: 'dev' },
        dir: 'sub',
      },
      {
        registry: 'g',
        version: 1,
        index: 3,
        exact: false,
        from: { type: 'indirect', id: 'clear' },
        to: { type: 'git', url: 'file:///srv/a', ref: 'dev' },
      },
    ]);
  });
});
