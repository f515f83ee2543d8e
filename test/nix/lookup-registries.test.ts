import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flakeRefToString } from '../../src/nix/flakeref.js';
import { RegistryIndex } from '../../src/nix/lookup.js';
import { readRegistry } from '../../src/nix/registry.js';
import { fileLayer, layer, outcome, run } from './lookup-helpers.js';
import { officialRegistryPath } from './official-registry.js';

const REV = '26d85eb2806b255191d2df4bac61cb489c6000ce';

describe.skipIf(officialRegistryPath === undefined)('resolve: the official registry (test data)', () => {
  // Collected even when skipped, so only read the file when it is there.
  const official = officialRegistryPath === undefined ? layer('global', []) : fileLayer('global', officialRegistryPath);
  const chan = (c: string) => ({ type: 'tarball', url: `https://channels.nixos.org/${c}/nixexprs.tar.xz` });
  it.each([
    ['nixpkgs/nixos-26.05', chan('nixos-26.05')],
    ['nixpkgs/nixos-unstable', chan('nixos-unstable')],
    ['nixpkgs', chan('nixpkgs-unstable')],
    ['nixpkgs/master', { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'master' }],
    [`nixpkgs/${REV}`, { type: 'github', owner: 'NixOS', repo: 'nixpkgs', rev: REV }],
    [
      'home-manager/release-24.05',
      { type: 'github', owner: 'nix-community', repo: 'home-manager', ref: 'release-24.05' },
    ],
    ['systems', { type: 'github', owner: 'nix-systems', repo: 'default' }],
  ])('%s', (query, input) => {
    const r = run(query, [official]);
    expect(r.ok && r.resolved.input).toEqual(input);
  });

  it('gives blender-bin its dir and leaves unknown ids unresolved', () => {
    expect(outcome(run('blender-bin', [official]))).toBe('github:edolstra/nix-warez?dir=blender');
    expect(outcome(run('no-such-flake', [official]))).toMatch(/^not-found: cannot find flake 'flake:no-such-flake'/);
  });

  it('lets a user layer shadow the global nixpkgs', () => {
    const user = layer('user', [['nixpkgs', '→', 'path:/home/me/nixpkgs']]);
    expect(outcome(run('nixpkgs', [user, official]))).toBe('path:/home/me/nixpkgs');
  });
});

describe('resolve: the project registries', () => {
  const global = fileLayer('global', new URL('../../registries/global.json', import.meta.url).pathname);
  it('resolves every id it lists to a direct input', () => {
    const text = readFileSync(new URL('../../registries/global.json', import.meta.url), 'utf8');
    for (const e of readRegistry(text).entries) {
      expect(run(flakeRefToString({ input: e.from, dir: '' }), [global]).ok).toBe(true);
    }
  });
  it.each([
    ['nixpkgs/nixos-26.05', 'https://channels.nixos.org/nixos-26.05/nixexprs.tar.xz'],
    ['nixpkgs', 'github:NixOS/nixpkgs/nixpkgs-unstable'],
    ['nixpkgs/nixos-23.11', 'github:NixOS/nixpkgs/nixos-23.11'],
    ['flake-parts-dev', 'github:hercules-ci/flake-parts?dir=dev'],
  ])('%s → %s', (query, expected) => {
    expect(outcome(run(query, [global]))).toBe(expected);
  });
});

describe('RegistryIndex', () => {
  it('finds the last of 100,000 entries, and the first match among entries with the same id', () => {
    const flakes = Array.from({ length: 100_000 }, (_, i) => ({
      from: { type: 'indirect', id: `f${i}` },
      to: { type: 'github', owner: 'o', repo: `r${i}` },
    }));
    const registry = {
      entries: [...flakes, { from: { type: 'indirect', id: 'f0' }, to: { type: 'path', path: '/late' } }].map((f) => ({
        ...f,
        exact: false,
      })),
    };
    const layers = [{ name: 'big', version: 1, index: new RegistryIndex(registry) }];
    // Speed is shown by `npm run bench`; here, that the index keeps Nix's answers.
    expect(run('f99999', layers).steps[0]?.index).toBe(99_999);
    expect(run('f0', layers).steps[0]?.index).toBe(0);
    expect(outcome(run('f0', layers))).toBe('github:o/r0');
  });
});
