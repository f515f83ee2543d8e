/**
 * Nix's `fetchers::Attrs`: the attribute form of an input. Nix keeps them in a
 * `std::map`, so equality is over the whole set and printing is in key order.
 * Integers are non-negative (Nix stores them as uint64).
 */
export type AttrValue = string | number | boolean;
export type Attrs = { readonly [key: string]: AttrValue };

/** A flake reference: an input plus the subdirectory holding `flake.nix` ('' for none). */
export interface FlakeRef {
  readonly input: Attrs;
  readonly dir: string;
}

export function attrsEqual(a: Attrs, b: Attrs): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** A copy with keys in sorted order, as Nix's std::map iterates them. */
export function sortAttrs(a: Attrs): Attrs {
  const out: Record<string, AttrValue> = {};
  for (const k of Object.keys(a).sort()) out[k] = a[k] as AttrValue;
  return out;
}

export function withoutAttrs(a: Attrs, ...keys: string[]): Attrs {
  const out: Record<string, AttrValue> = { ...a };
  for (const k of keys) delete out[k];
  return out;
}

export function getStrAttr(a: Attrs, key: string): string | undefined {
  const v = a[key];
  return typeof v === 'string' ? v : undefined;
}
