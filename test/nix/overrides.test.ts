import { describe, expect, it } from 'vitest';
import {
  isOverrideStep,
  MAX_OVERRIDES,
  OVERRIDE_LAYER_NAME,
  OverrideError,
  overrideRegistry,
  withOverrides,
  type FlakeOverride,
} from '../../src/nix/overrides.js';
import { layer, outcome, run } from './lookup-helpers.js';

const A = 'git+file:///srv/a';
const B = 'git+file:///srv/b';
const REV = '26d85eb2806b255191d2df4bac61cb489c6000ce';

const o = (original: string, resolved: string): FlakeOverride => ({ original, resolved });

const global = layer('global', [
  ['a', '→', A],
  ['b', '→', `${B}?ref=main`],
  ['nixpkgs', '→', 'github:NixOS/nixpkgs/nixpkgs-unstable'],
]);

describe('overrideRegistry: the entries --override-flake adds (src/libcmd/common-eval-args.cc)', () => {
  it('keeps flag order, makes every entry non-exact and keeps only the resolved side’s dir', () => {
    const registry = overrideRegistry([o('flake:a?dir=dropped', `${B}?dir=sub`), o('nixpkgs', 'github:o/r')]);
    expect(registry.entries).toEqual([
      { from: { type: 'indirect', id: 'a' }, to: { type: 'git', url: 'file:///srv/b' }, dir: 'sub', exact: false },
      { from: { type: 'indirect', id: 'nixpkgs' }, to: { type: 'github', owner: 'o', repo: 'r' }, exact: false },
    ]);
  });

  it('keeps a ref or rev written in the original, so only that ref matches', () => {
    const layers = withOverrides([o('nixpkgs/stable', 'github:o/stable')], [global]);
    expect(outcome(run('nixpkgs/stable', layers))).toBe('github:o/stable');
    expect(outcome(run('nixpkgs/master', layers))).toBe('github:NixOS/nixpkgs/master');
  });
});

// The expected values of the first four rows were checked against Nix 2.8
// (`nix flake metadata --json --override-flake …` on git+file repositories).
describe('resolve with overrides above the registries', () => {
  it.each<[string, FlakeOverride[], string]>([
    ['a', [o('a', B)], B],
    ['a/dev', [o('a', `${B}?dir=sub`)], `${B}?dir=sub&ref=dev`],
    ['a', [o('flake:a?dir=zzz', B)], B],
    ['a', [o('a', 'flake:b'), o('a', `${A}?ref=dev`)], `${B}?ref=main`],
    [`a/${REV}`, [o('a', 'github:o/r')], `github:o/r/${REV}`],
    ['b', [o('a', B)], `${B}?ref=main`],
    ['nixpkgs', [o('github:NixOS/nixpkgs', 'github:fork/nixpkgs')], 'github:fork/nixpkgs/nixpkgs-unstable'],
    ['new', [o('new', 'path:/srv/new')], 'path:/srv/new'],
  ])('%s with %j → %s', (query, overrides, expected) => {
    expect(outcome(run(query, withOverrides(overrides, [global])))).toBe(expected);
  });

  it('names the override each step came from, by its place in flag order', () => {
    const r = run('x', withOverrides([o('y', A), o('x', 'flake:b')], [global]));
    expect(r.ok).toBe(true);
    expect(r.steps.map((s) => [s.registry, s.version, s.index, isOverrideStep(s)])).toEqual([
      [OVERRIDE_LAYER_NAME, 0, 1, true],
      ['global', 1, 1, false],
    ]);
  });

  it('reports an override whose target cannot take the ref, naming that override as the entry', () => {
    const r = run('a/dev', withOverrides([o('a', 'path:/srv/p')], [global]));
    expect(outcome(r)).toBe("override: don't know how to set branch/tag name of input 'path:/srv/p' to 'dev'");
    expect(r.ok === false && r.entry?.registry).toBe(OVERRIDE_LAYER_NAME);
  });

  // Checked against Nix 2.8: after 100 hops between a and b the input is a again.
  it('reports a cycle made by overrides alone', () => {
    const r = run('a', withOverrides([o('a', 'flake:b'), o('b', 'flake:a')], [global]));
    expect(outcome(r)).toBe("cycle: cycle detected in flake registry for 'flake:a'");
  });

  it('adds no layer for no overrides', () => {
    expect(withOverrides([], [global])).toEqual([global]);
  });
});

describe('overrideRegistry: refusals', () => {
  it.each<[string, FlakeOverride, string]>([
    [
      'a bare relative path',
      o('a', './x'),
      "--override-flake 1, resolved: flake reference './x' is not an absolute path",
    ],
    [
      'a relative path: URL',
      o('a', 'path:./x'),
      "--override-flake 1, resolved: flake reference 'path:./x' has the relative path './x', and there is no working directory to resolve it against",
    ],
    [
      'a relative git+file URL',
      o('git+file:x', A),
      "--override-flake 1, original: flake reference 'git+file:x' has the relative path 'x', and there is no working directory to resolve it against",
    ],
    [
      'a fragment',
      o('a', 'github:o/r#pkg'),
      "--override-flake 1, resolved: unexpected fragment 'pkg' in flake reference 'github:o/r#pkg'",
    ],
    ['an unsupported ref', o('a', 'foo:bar'), "--override-flake 1, resolved: input 'foo:bar' is unsupported"],
  ])('refuses %s', (_, override, message) => {
    expect(() => overrideRegistry([override])).toThrow(OverrideError);
    expect(() => overrideRegistry([override])).toThrow(message);
  });

  it('names the failing override by its place and side, with a stable code', () => {
    try {
      overrideRegistry([o('a', A), o('b', 'path:rel')]);
      expect.fail('accepted a relative path');
    } catch (e) {
      expect(e).toBeInstanceOf(OverrideError);
      const err = e as OverrideError;
      expect([err.code, err.index, err.side]).toEqual(['relative-path', 1, 'resolved']);
    }
  });

  it(`refuses more than ${MAX_OVERRIDES} overrides`, () => {
    const many = Array.from({ length: MAX_OVERRIDES + 1 }, (_, i) => o(`x${i}`, A));
    expect(() => overrideRegistry(many)).toThrow(`${MAX_OVERRIDES + 1} overrides given; at most ${MAX_OVERRIDES}`);
    expect(overrideRegistry(many.slice(1)).entries).toHaveLength(MAX_OVERRIDES);
  });
});
