/**
 * `--override-flake ORIGINAL RESOLVED`: the flag registry Nix builds from its command line
 * (the handler in src/libcmd/common-eval-args.cc, `overrideRegistry` and `Registry::add` in
 * src/libfetchers/registry.cc), as a layer for `resolve` to search before every other.
 *
 * Nix does, for each flag in order: parse both refs with `parseFlakeRef`; keep RESOLVED's
 * `dir` as the entry's extra attribute and drop ORIGINAL's (only `from.input` is stored);
 * append a non-exact entry, so a later flag for the same ORIGINAL never matches (the first
 * one wins) and the query's ref and rev pass on to RESOLVED as through any non-exact entry.
 * `getRegistries` puts the flag registry first, ahead of the user, system and global ones.
 *
 * Nix 2.8 and current Nix build the same entries and search them in the same place: every
 * lookup in 2.8; in current Nix (2.26 and later), also the lookups of lock-file inputs,
 * which skip the user and system registries but keep the flag one (`UseRegistries::Limited`).
 * What differs is only how the two refs parse (docs/nix-compatibility.md); one difference
 * reaches the entry: 2.8 leaves `?dir=` inside a git RESOLVED's `url` as well as taking it as
 * the entry's `dir`, current Nix (and this module) takes it out.
 *
 * Departure: Nix makes relative paths absolute against its working directory (a bare `./x`,
 * and `path:` or `git+file:` URLs with a relative path). The service has none, so every
 * relative path is refused.
 */
import type { FlakeRef } from './attrs.js';
import { NixError } from './errors.js';
import { parseFlakeRef } from './flakeref.js';
import type { LayerRef, Step } from './lookup.js';
import { RegistryIndex } from './lookup.js';
import type { Registry, RegistryEntry } from './registry.js';

/** The name override steps carry; no hosted registry can have it (names start with a letter or digit). */
export const OVERRIDE_LAYER_NAME = '--override-flake';

/** Nix takes any number; a request carrying more than this is refused, not truncated. */
export const MAX_OVERRIDES = 64;

export interface FlakeOverride {
  readonly original: string;
  readonly resolved: string;
}

export type OverrideErrorCode = 'invalid-ref' | 'relative-path' | 'too-many';

/** One override Nix would refuse, or too many of them; `index` is its place in flag order. */
export class OverrideError extends Error {
  override readonly name = 'OverrideError';
  constructor(
    readonly code: OverrideErrorCode,
    message: string,
    readonly index?: number,
    readonly side?: 'original' | 'resolved',
  ) {
    super(message);
  }
}

/** A relative path in a `path:` or `git+file:` ref (a bare relative path fails to parse already). */
function relativePath(ref: FlakeRef): string | undefined {
  const { input } = ref;
  if (input['type'] === 'path' && typeof input['path'] === 'string' && !input['path'].startsWith('/'))
    return input['path'];
  if (input['type'] === 'git' && typeof input['url'] === 'string' && /^file:(?!\/)/.test(input['url']))
    return input['url'].slice('file:'.length);
  return undefined;
}

function parseSide(text: string, index: number, side: 'original' | 'resolved'): FlakeRef {
  let ref: FlakeRef;
  try {
    ref = parseFlakeRef(text);
  } catch (e) {
    if (!(e instanceof NixError)) throw e;
    throw new OverrideError('invalid-ref', `--override-flake ${index + 1}, ${side}: ${e.message}`, index, side);
  }
  const relative = relativePath(ref);
  if (relative !== undefined)
    throw new OverrideError(
      'relative-path',
      `--override-flake ${index + 1}, ${side}: flake reference '${text}' has the relative path '${relative}', and there is no working directory to resolve it against`,
      index,
      side,
    );
  return ref;
}

/** The entries Nix's flag registry holds after these flags, in flag order. */
export function overrideRegistry(overrides: readonly FlakeOverride[]): Registry {
  if (overrides.length > MAX_OVERRIDES)
    throw new OverrideError('too-many', `${overrides.length} overrides given; at most ${MAX_OVERRIDES} are taken`);
  const entries = overrides.map(({ original, resolved }, index): RegistryEntry => {
    const from = parseSide(original, index, 'original');
    const to = parseSide(resolved, index, 'resolved');
    return { from: from.input, to: to.input, ...(to.dir === '' ? {} : { dir: to.dir }), exact: false };
  });
  return { entries };
}

/**
 * The layer to put first in `resolve`'s list. Its steps name `OVERRIDE_LAYER_NAME` as their
 * registry, version 0, and the override's place in flag order (from 0) as their index.
 */
export function overrideLayer(overrides: readonly FlakeOverride[]): LayerRef {
  return { name: OVERRIDE_LAYER_NAME, version: 0, index: new RegistryIndex(overrideRegistry(overrides)) };
}

/** The override layer above `layers`, as Nix searches its flag registry before the others. */
export function withOverrides(overrides: readonly FlakeOverride[], layers: readonly LayerRef[]): LayerRef[] {
  return overrides.length === 0 ? [...layers] : [overrideLayer(overrides), ...layers];
}

export function isOverrideStep(step: Step): boolean {
  return step.registry === OVERRIDE_LAYER_NAME;
}
