import { readFileSync } from 'node:fs';
import { flakeRefToAttrs, flakeRefToString, parseFlakeRef } from '../../src/nix/flakeref.js';
import { RegistryIndex, resolve } from '../../src/nix/lookup.js';
import type { LayerRef, ResolveResult } from '../../src/nix/lookup.js';
import { readRegistry } from '../../src/nix/registry.js';

/** `x → T` non-exact, `x ⇒ T` exact; `from` and `to` are flake references. */
export type E = readonly [from: string, arrow: '→' | '⇒', to: string];

/** A layer built the way the service builds one: through the registry file reader. */
export function layer(name: string, entries: readonly E[], version = 1): LayerRef {
  const flakes = entries.map(([from, arrow, to]) => ({
    from: parseFlakeRef(from).input,
    to: flakeRefToAttrs(parseFlakeRef(to)),
    ...(arrow === '⇒' ? { exact: true } : {}),
  }));
  const registry = readRegistry(JSON.stringify({ version: 2, flakes }));
  return { name, version, index: new RegistryIndex(registry) };
}

export function fileLayer(name: string, path: string): LayerRef {
  return { name, version: 1, index: new RegistryIndex(readRegistry(readFileSync(path, 'utf8'))) };
}

export function run(query: string, layers: readonly LayerRef[]): ResolveResult {
  return resolve(parseFlakeRef(query), layers);
}

/** The resolved ref as current Nix prints it, or `kind: text` for an error. */
export function outcome(r: ResolveResult): string {
  return r.ok ? flakeRefToString(r.resolved) : `${r.error.kind}: ${r.error.message}`;
}
