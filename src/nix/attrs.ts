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

/**
 * Keys in std::map order: UTF-8 byte order, which is code point order. UTF-16
 * code units agree except that surrogates must sort above U+E000..U+FFFF.
 * Used wherever Nix iterates a `std::map<std::string, …>`: attributes, URL
 * query parameters, JSON objects.
 */
export function compareKeys(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === a.length || i === b.length) return a.length - b.length;
  const lift = (c: number) => (c >= 0xd800 ? (c >= 0xe000 ? c - 0x800 : c + 0x2000) : c);
  return lift(a.charCodeAt(i)) - lift(b.charCodeAt(i));
}

/**
 * A copy with keys in std::map order (`compareKeys`). JavaScript objects list
 * integer-like keys first whatever the insertion order; no input attribute has
 * such a name.
 */
export function sortAttrs(a: Attrs): Attrs {
  // fromEntries defines properties, so even a `__proto__` key stays data.
  return Object.fromEntries(
    Object.keys(a)
      .sort(compareKeys)
      .map((k) => [k, a[k] as AttrValue]),
  );
}

export function withoutAttrs(a: Attrs, ...keys: string[]): Attrs {
  const out: Record<string, AttrValue> = { ...a };
  for (const k of keys) delete out[k];
  return out;
}
