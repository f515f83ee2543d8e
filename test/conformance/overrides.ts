import type { Attrs } from '../../src/nix/attrs.js';
import { flakeRefToAttrs, parseFlakeRef } from '../../src/nix/flakeref.js';
import type { LayerRef } from '../../src/nix/lookup.js';
import { resolve } from '../../src/nix/lookup.js';
import { withOverrides, type FlakeOverride } from '../../src/nix/overrides.js';
import { classifyError, normalizeUrl, type Failure, type NixRunner } from './nix.js';

/**
 * `--override-flake` against real Nix, for any side that claims to resolve as Nix does.
 *
 * `nixResolveWithOverrides` asks `nix flake metadata --json --override-flake A B … REF` and
 * `coreResolveWithOverrides` asks src/nix with the same overrides above the same layers; both
 * answer an `OverrideOutcome` that compares with `toEqual`; `serviceResolveWithOverrides` asks
 * `/resolve` with the same overrides (`override-flake=ORIGINAL&override-flake=RESOLVED`) and
 * reads its answer the same way (its `resolved.attrs`, or `classifyError` of a problem's `detail`).
 * Nix must be run by a `nixRunner` whose `flake-registry` is the file the layers were read from.
 */

export type OverrideOutcome = { readonly kind: 'ok'; readonly resolved: Attrs } | Failure;

/**
 * Nix 2.8 leaves `?dir=` inside a git input's `url` as well as taking it as `dir`
 * (docs/nix-compatibility.md); current Nix and the service take it out. Removed before comparing.
 */
function withoutDirInGitUrl(attrs: Attrs): Attrs {
  const url = attrs['url'];
  if (attrs['type'] !== 'git' || typeof url !== 'string' || attrs['dir'] === undefined) return attrs;
  const [base = '', query] = url.split('?');
  const rest = (query ?? '').split('&').filter((p) => p !== '' && !p.startsWith('dir='));
  return { ...attrs, url: rest.length === 0 ? base : `${base}?${rest.join('&')}` };
}

export function overrideArgs(overrides: readonly FlakeOverride[]): string[] {
  return overrides.flatMap((o) => ['--override-flake', o.original, o.resolved]);
}

export async function nixResolveWithOverrides(
  nix: NixRunner,
  ref: string,
  overrides: readonly FlakeOverride[],
): Promise<OverrideOutcome> {
  const out = await nix.run(['flake', 'metadata', '--json', '--no-write-lock-file', ...overrideArgs(overrides), ref]);
  if (out.code !== 0) return classifyError(out.stderr);
  const meta = JSON.parse(out.stdout) as { resolved: Attrs };
  return { kind: 'ok', resolved: withoutDirInGitUrl(meta.resolved) };
}

/** The core's answer, as `classifyError` reads Nix's (Nix 2.8 only looks indirect refs up). */
export function coreResolveWithOverrides(
  ref: string,
  overrides: readonly FlakeOverride[],
  layers: readonly LayerRef[],
): OverrideOutcome {
  const r = resolve(parseFlakeRef(ref), withOverrides(overrides, layers));
  if (!r.ok) return classifyError(r.error.message);
  return { kind: 'ok', resolved: flakeRefToAttrs(r.resolved) };
}

/**
 * What both sides must agree on: the resolved attributes, or the kind of failure and the ref
 * its message quotes (the wording around it differs between Nix versions).
 */
export function comparable(o: OverrideOutcome): unknown {
  return o.kind === 'ok' ? o : { kind: o.kind, subject: normalizeUrl(o.subject) };
}

/** `/resolve` of a running service, with the overrides as query parameters, read as Nix's answer is. */
export async function serviceResolveWithOverrides(
  origin: string,
  ref: string,
  overrides: readonly FlakeOverride[],
): Promise<OverrideOutcome> {
  const values = overrides.flatMap((o) => [o.original, o.resolved]);
  const query = values.map((v) => `&override-flake=${encodeURIComponent(v)}`).join('');
  const res = await fetch(`${origin}/resolve?ref=${encodeURIComponent(ref)}${query}`);
  const body = await res.json<{ resolved?: { attrs: Attrs }; detail?: string }>();
  if (res.status === 200 && body.resolved) return { kind: 'ok', resolved: body.resolved.attrs };
  return classifyError(body.detail ?? `status ${res.status} without a detail`);
}
