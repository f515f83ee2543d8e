import { describe, expect, it } from 'vitest';
import {
  checkAnchor,
  checkNamed,
  describeChange,
  moveChange,
  positionFrom,
  removeChange,
  setChange,
} from '../../../scripts/cli/changes.js';
import { readRegistry } from '../../../src/nix/registry.js';

const registry = (flakes: unknown[]) => readRegistry(JSON.stringify({ version: 2, flakes }));
const nixpkgs = { type: 'indirect', id: 'nixpkgs' };
const both = registry([
  { from: nixpkgs, to: { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-25.05' }, exact: true },
  { from: nixpkgs, to: { type: 'github', owner: 'NixOS', repo: 'nixpkgs' } },
]);
const onlyExact = registry([{ from: nixpkgs, to: { type: 'github', owner: 'NixOS', repo: 'nixpkgs' }, exact: true }]);

describe('changes written as flake URLs', () => {
  it('maps `set FROM TARGET --exact --before X` to a set change with the parsed attributes', () => {
    const position = positionFrom({ before: 'nixpkgs' }, undefined, 'propose set');
    expect(setChange('nixpkgs/nixos-25.05', 'github:NixOS/nixpkgs/nixos-25.05', true, position)).toEqual({
      op: 'set',
      entry: {
        from: { id: 'nixpkgs', ref: 'nixos-25.05', type: 'indirect' },
        to: { owner: 'NixOS', ref: 'nixos-25.05', repo: 'nixpkgs', type: 'github' },
        exact: true,
      },
      position: { before: { id: 'nixpkgs', type: 'indirect' } },
    });
  });

  it("puts a target's dir into to.dir, as a registry file writes it", () => {
    const change = setChange('tools', 'github:o/mono?dir=tools', false, undefined);
    expect(change).toEqual({
      op: 'set',
      entry: {
        from: { id: 'tools', type: 'indirect' },
        to: { dir: 'tools', owner: 'o', repo: 'mono', type: 'github' },
      },
    });
  });

  it('takes a direct input as from, and leaves exact out unless asked', () => {
    expect(removeChange('github:NixOS/nixpkgs', false)).toEqual({
      op: 'remove',
      from: { owner: 'NixOS', repo: 'nixpkgs', type: 'github' },
    });
    expect(moveChange('nixpkgs', true, 'start')).toEqual({ op: 'move', from: nixpkgs, exact: true, position: 'start' });
  });

  it("refuses refs Nix would not parse, with Nix's reason, and a dir in a from", () => {
    expect(() => setChange('a#b', 'github:o/r', false, undefined)).toThrow("unexpected fragment 'b'");
    expect(() => setChange('github:o/r?dir=x', 'github:o/r', false, undefined)).toThrow('only a target may have one');
    expect(() => setChange('x', 'github:o', false, undefined)).toThrow("target 'github:o'");
  });

  it('allows one position only', () => {
    expect(() => positionFrom({ before: 'a', start: true }, undefined, 'propose set')).toThrow(
      'give one of --before, --start, not several',
    );
    expect(() => positionFrom({ anchorExact: true }, undefined, 'propose set')).toThrow('go with --before or --after');
  });

  it('requires --anchor-exact or --anchor-non-exact when the registry has both entries of the anchor', () => {
    expect(() => positionFrom({ after: 'nixpkgs' }, both, 'propose set')).toThrow(
      'the registry has an exact and a non-exact entry for flake:nixpkgs: say which one to place it after with --anchor-exact or --anchor-non-exact',
    );
    expect(positionFrom({ after: 'nixpkgs', anchorExact: true }, both, 'propose set')).toEqual({
      after: nixpkgs,
      exact: true,
    });
    expect(positionFrom({ after: 'nixpkgs', anchorNonExact: true }, both, 'propose set')).toEqual({ after: nixpkgs });
  });

  it('names the only entry of an anchor, exact or not, without a flag', () => {
    expect(positionFrom({ before: 'nixpkgs' }, onlyExact, 'propose set')).toEqual({ before: nixpkgs, exact: true });
  });

  it('refuses an entry or anchor the live registry does not hold, hinting at --exact', () => {
    expect(() => checkNamed(onlyExact, nixpkgs, false, 'remove')).toThrow(
      'the registry has no entry flake:nixpkgs to remove (it has the exact one: add --exact)',
    );
    expect(() => checkAnchor(onlyExact, { before: { type: 'indirect', id: 'nope' } })).toThrow(
      'the registry has no entry flake:nope to place it before',
    );
    expect(() => checkNamed(onlyExact, nixpkgs, true, 'remove')).not.toThrow();
  });

  it('describes a change for the default message', () => {
    const change = setChange('nixpkgs', 'github:NixOS/nixpkgs/nixos-25.05?dir=lib', false, 'start');
    expect(describeChange(change)).toBe('Set flake:nixpkgs to github:NixOS/nixpkgs/nixos-25.05?dir=lib at the start');
    expect(describeChange(removeChange('nixpkgs', true))).toBe('Remove flake:nixpkgs (exact)');
  });
});
