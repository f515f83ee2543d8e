import { readFileSync } from 'node:fs';
import type { Json, JsonObject } from '../../src/nix/document.js';
import { layer, type E } from './lookup-helpers.js';

/** A fixture of test/nix/fixtures/, parsed. */
export function fixture(name: string): Json {
  return JSON.parse(readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8')) as Json;
}

export const fixtureText = (name: string): string => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

/** Revisions the fixtures lock to, by their place in the fixtures' lists. */
export const REV = [
  '644fe7bb85b6752185b840254c7a541ee64761c7',
  'd55fc981243e98310b82648f98fb4607fba63157',
  '14a8254dd01359372b5a650cebf6123f2e0586e8',
  '49e68317903711fdf5b147ba8a7e507075678e86',
  '6a1cc770e13ae40a30325039df7b2e0d0859de26',
  '63ccce545ba46d3e7b52df251ca909d5a5e38c8e',
] as const;

export const CHANNEL_2405 = 'https://channels.example.org/nixos-24.05/nixexprs.tar.xz';
export const CHANNEL_UNSTABLE = 'https://channels.example.org/nixos-unstable/nixexprs.tar.xz';

/** The registry the fixtures were locked through (exact channel entries first, as in the official one). */
export const BASE: readonly E[] = [
  ['nixpkgs/nixos-24.05', '⇒', CHANNEL_2405],
  ['nixpkgs', '→', 'github:NixOS/nixpkgs/nixpkgs-unstable'],
  ['flake-utils', '→', 'github:numtide/flake-utils'],
  ['pinned-utils', '→', `github:numtide/flake-utils/${REV[2]}`],
  ['home-manager', '→', 'github:nix-community/home-manager'],
  ['tools', '→', 'git+https://git.example.org/tools.git?ref=main'],
  ['tools-stable', '→', 'git+https://git.example.org/tools.git?ref=stable'],
  ['src-data', '→', 'git+https://git.example.org/data.git'],
  ['mylib', '→', 'github:example/mylib'],
  ['loop-a', '→', 'flake:loop-b'],
  ['loop-b', '→', 'flake:loop-a'],
  ['chan', '→', CHANNEL_UNSTABLE],
];

export const base = (version = 1) => layer('global', BASE, version);

/** What tests of the lock reader build their files from. */
export const NAR = 'sha256-OwiJl/4IDo/wnjcFirVy9sx7U34jO5jmWTM1VOu/lDI=';

/** A github `locked` of owner `o`. */
export const gh = (repo: string, rev: string = REV[0]): JsonObject => ({
  type: 'github',
  owner: 'o',
  repo,
  rev,
  narHash: NAR,
});

/** A node reached through the registry as `repo`, locked to github:o/REPO. */
export const node = (repo: string, inputs?: JsonObject): JsonObject => ({
  ...(inputs === undefined ? {} : { inputs }),
  locked: gh(repo),
  original: { type: 'indirect', id: repo },
});

/** A version 7 lock file whose root has `rootInputs`. */
export function lock(rootInputs: JsonObject, nodes: JsonObject = {}, extra: JsonObject = {}): Json {
  return { version: 7, root: 'root', nodes: { root: { inputs: rootInputs }, ...nodes }, ...extra };
}
