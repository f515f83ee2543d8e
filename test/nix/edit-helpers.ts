import type { Attrs } from '../../src/nix/attrs.js';
import { flakeRefToAttrs, flakeRefToString, parseFlakeRef } from '../../src/nix/flakeref.js';
import { inputToURL } from '../../src/nix/input.js';
import type { Registry } from '../../src/nix/registry.js';
import { readRegistry } from '../../src/nix/registry.js';
import type { EntryChange as Change, ChangeEntry, Position } from '../../src/nix/changes.js';
import type { E } from './lookup-helpers.js';

export const attrs = (ref: string): Attrs => parseFlakeRef(ref).input;

export function entry([from, arrow, to]: E): ChangeEntry {
  return {
    from: attrs(from),
    to: flakeRefToAttrs(parseFlakeRef(to)),
    ...(arrow === '⇒' ? { exact: true as const } : {}),
  };
}

/** A registry built the way the service builds one: through the registry file reader. */
export function reg(entries: readonly E[]): Registry {
  return readRegistry(JSON.stringify({ version: 2, flakes: entries.map(entry) }));
}

export const set = (e: E, position?: Position): Change => ({
  op: 'set',
  entry: entry(e),
  ...(position === undefined ? {} : { position }),
});
export const remove = (from: string): Change => ({ op: 'remove', from: attrs(from) });
export const move = (from: string, position: Position): Change => ({ op: 'move', from: attrs(from), position });
export const after = (from: string): Position => ({ after: attrs(from) });
export const before = (from: string): Position => ({ before: attrs(from) });

/** The entries as `from → to` (`⇒` when exact), in file order. */
export function lines(r: Registry): string[] {
  return r.entries.map(
    (e) => `${inputToURL(e.from)} ${e.exact ? '⇒' : '→'} ${flakeRefToString({ input: e.to, dir: e.dir ?? '' })}`,
  );
}

/**
 * The layout of the official NixOS registry's nixpkgs entries, written for
 * these tests: exact channel tarballs, then the non-exact fallback to GitHub.
 */
export const chan = (c: string) => `https://channels.nixos.org/${c}/nixexprs.tar.xz`;
export const CHANNELS: E[] = [
  ['flake:nixpkgs/nixos-25.05', '⇒', chan('nixos-25.05')],
  ['flake:nixpkgs/nixos-25.11', '⇒', chan('nixos-25.11')],
  ['flake:nixpkgs/nixos-unstable', '⇒', chan('nixos-unstable')],
];
export const FALLBACK: E = ['nixpkgs', '→', 'github:NixOS/nixpkgs/nixpkgs-unstable'];
export const CHANNEL_LAYOUT: E[] = [
  ['home-manager', '→', 'github:nix-community/home-manager'],
  ...CHANNELS,
  FALLBACK,
  ['systems', '→', 'github:nix-systems/default'],
];
