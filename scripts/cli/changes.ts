import type { AttrValue, Attrs } from '../../src/nix/attrs.js';
import { sortAttrs, withoutAttrs } from '../../src/nix/attrs.js';
import { attrsKey, entryLabel } from '../../src/nix/entry-key.js';
import { readChangeEntry } from '../../src/nix/changes.js';
import { NixError } from '../../src/nix/errors.js';
import { flakeRefToAttrs, flakeRefToString, parseFlakeRef } from '../../src/nix/flakeref.js';
import type { Registry } from '../../src/nix/registry.js';
import type { Change, Position } from '../../src/protocol/changes.js';
import { CliError, UsageError } from './errors.js';

/**
 * Single changes written as flake URLs (`propose set nixpkgs/nixos-25.05
 * github:NixOS/nixpkgs/nixos-25.05 --exact --before nixpkgs`), mapped to the
 * protocol's changes with the core's parser, so a URL means here exactly what
 * it means to Nix.
 */

export interface PlaceFlags {
  readonly before?: string | undefined;
  readonly after?: string | undefined;
  readonly start?: boolean;
  readonly end?: boolean;
  /** The anchor is the exact entry of its `from`. */
  readonly anchorExact?: boolean;
  /** The anchor is the non-exact entry of its `from`. */
  readonly anchorNonExact?: boolean;
}

/** A flake URL as the attributes of a `from` (or an anchor): `dir` has no place there. */
export function fromAttrs(url: string, what: string): Attrs {
  const ref = parse(url, what);
  if (ref.dir !== '') throw new CliError(`${what} '${url}' has a dir ('${ref.dir}'); only a target may have one`);
  return sortAttrs(flakeRefToAttrs(ref));
}

/** A flake URL as an entry's `to`, with `dir` among its attributes as a registry file writes it. */
export function toAttrs(url: string): Attrs {
  const ref = parse(url, 'target');
  const attrs: Record<string, AttrValue> = { ...ref.input };
  if (ref.dir !== '') attrs['dir'] = ref.dir;
  return sortAttrs(attrs);
}

function parse(url: string, what: string) {
  try {
    return parseFlakeRef(url);
  } catch (error) {
    if (error instanceof NixError) throw new CliError(`${what} '${url}': ${error.message}`, { cause: error });
    throw error;
  }
}

/** Which entries of `registry` have this `from`: whether an exact one and a non-exact one exist. */
function holders(registry: Registry, from: Attrs): { exact: boolean; nonExact: boolean } {
  const key = attrsKey(from);
  let exact = false;
  let nonExact = false;
  for (const e of registry.entries) {
    if (attrsKey(e.from) !== key) continue;
    if (e.exact) exact = true;
    else nonExact = true;
  }
  return { exact, nonExact };
}

/**
 * The position the flags ask for, or undefined for none. An anchor names an
 * entry by its `from`; when `live` holds both an exact and a non-exact entry
 * with it, the flags must say which.
 */
export function positionFrom(flags: PlaceFlags, live: Registry | undefined, command: string): Position | undefined {
  const given = [
    flags.before !== undefined ? '--before' : '',
    flags.after !== undefined ? '--after' : '',
    flags.start === true ? '--start' : '',
    flags.end === true ? '--end' : '',
  ].filter((f) => f !== '');
  if (given.length > 1) throw new UsageError(`give one of ${given.join(', ')}, not several`, command);
  if (flags.anchorExact === true && flags.anchorNonExact === true) {
    throw new UsageError('give --anchor-exact or --anchor-non-exact, not both', command);
  }
  const anchorText = flags.before ?? flags.after;
  if (anchorText === undefined) {
    if (flags.anchorExact === true || flags.anchorNonExact === true) {
      throw new UsageError('--anchor-exact and --anchor-non-exact go with --before or --after', command);
    }
    if (flags.start === true) return 'start';
    if (flags.end === true) return 'end';
    return undefined;
  }
  const anchor = fromAttrs(anchorText, 'anchor');
  let exact: boolean;
  if (flags.anchorExact === true) exact = true;
  else if (flags.anchorNonExact === true) exact = false;
  else if (live === undefined) exact = false;
  else {
    const has = holders(live, anchor);
    if (has.exact && has.nonExact) {
      throw new CliError(
        `the registry has an exact and a non-exact entry for ${entryLabel(anchor, false)}: say which one to place it ${flags.before !== undefined ? 'before' : 'after'} with --anchor-exact or --anchor-non-exact`,
      );
    }
    exact = has.exact;
  }
  const side = flags.before !== undefined ? { before: anchor } : { after: anchor };
  return exact ? { ...side, exact: true } : side;
}

/** Refuses a change naming an entry that `live` does not hold, with a hint when the other exactness exists. */
export function checkNamed(live: Registry, from: Attrs, exact: boolean, what: string): void {
  const has = holders(live, from);
  if (exact ? has.exact : has.nonExact) return;
  const other = exact ? has.nonExact : has.exact;
  const label = entryLabel(from, exact);
  const hint = other
    ? ` (it has the ${exact ? 'non-exact' : 'exact'} one: ${exact ? 'leave out' : 'add'} --exact)`
    : '';
  throw new CliError(`the registry has no entry ${label} to ${what}${hint}`);
}

/** Checks that a position's anchor is in `live`. */
export function checkAnchor(live: Registry, position: Position | undefined): void {
  if (position === undefined || typeof position === 'string') return;
  const from = 'before' in position ? position.before : position.after;
  checkNamed(live, from, position.exact === true, `place it ${'before' in position ? 'before' : 'after'}`);
}

/** `propose set FROM TARGET`: the entry, read whole as Nix reads a registry entry. */
export function setChange(fromUrl: string, targetUrl: string, exact: boolean, position: Position | undefined): Change {
  const entry = {
    from: fromAttrs(fromUrl, 'from'),
    to: toAttrs(targetUrl),
    ...(exact ? { exact: true as const } : {}),
  };
  const read = readChangeEntry(entry);
  if (!read.ok) throw new CliError(read.detail);
  return { op: 'set', entry, ...(position === undefined ? {} : { position }) };
}

export function removeChange(fromUrl: string, exact: boolean): Change {
  return { op: 'remove', from: fromAttrs(fromUrl, 'from'), ...(exact ? { exact: true as const } : {}) };
}

export function moveChange(fromUrl: string, exact: boolean, position: Position): Change {
  return { op: 'move', from: fromAttrs(fromUrl, 'from'), ...(exact ? { exact: true as const } : {}), position };
}

/** A one-line description of a change, the default message of a proposal. */
export function describeChange(change: Change): string {
  const where = (p: Position | undefined): string => {
    if (p === undefined) return '';
    if (p === 'start' || p === 'end') return ` at the ${p}`;
    const side = 'before' in p ? 'before' : 'after';
    return ` ${side} ${entryLabel('before' in p ? p.before : p.after, p.exact === true)}`;
  };
  switch (change.op) {
    case 'set':
      return `Set ${entryLabel(change.entry.from, change.entry.exact === true)} to ${targetText(change.entry.to)}${where(change.position)}`;
    case 'remove':
      return `Remove ${entryLabel(change.from, change.exact === true)}`;
    case 'move':
      return `Move ${entryLabel(change.from, change.exact === true)}${where(change.position)}`;
    case 'file':
      return 'Replace the registry file';
    case 'policy':
      return `Change the trust policy to ${change.policy.threshold} of ${change.policy.keys.length} keys`;
  }
}

function targetText(to: Attrs): string {
  const dir = to['dir'];
  try {
    return flakeRefToString({ input: withoutAttrs(to, 'dir'), dir: typeof dir === 'string' ? dir : '' });
  } catch {
    return JSON.stringify(to);
  }
}
