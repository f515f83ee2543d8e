import { Hono } from 'hono';
import { sortAttrs, type FlakeRef } from '../../nix/attrs.js';
import { NixError } from '../../nix/errors.js';
import { MAX_FLAKE_REF_LENGTH, flakeRefToAttrs, flakeRefToString, parseFlakeRef } from '../../nix/flakeref.js';
import { inputToURL } from '../../nix/input.js';
import { resolve, type FailedEntry, type LayerRef, type Step } from '../../nix/lookup.js';
import { OverrideError, overrideLayer, type FlakeOverride } from '../../nix/overrides.js';
import { REGISTRY_NAME } from '../../store/layout.js';
import { LookupFormError, ShardNeeded } from '../../store/lookup-form.js';
import type { Head } from '../../store/records.js';
import type { RegistryStore } from '../../store/store.js';
import { cacheControl } from '../caching.js';
import type { AppEnv, Resolution } from '../env.js';
import { sha256Hex } from '../../crypto/sha256.js';
import { etagFor } from '../conditional.js';
import { toProblem } from '../errors.js';
import { firstQueryValue, hostedHead, pinnedLookup, pinnedVersion, queryParams, VERSION } from '../params.js';
import { PROBLEM_CONTENT_TYPE, Problem, problemBody } from '../problem.js';
import { respondWith, utf8 } from '../representation.js';

const MAX_LAYERS = 8;

/** The query parameter that carries Nix's `--override-flake ORIGINAL RESOLVED`, as its two values in turn. */
export const OVERRIDE_PARAM = 'override-flake';

/**
 * `override-flake=ORIGINAL&override-flake=RESOLVED`, repeated: the values in pairs and in
 * order, as Nix's command line takes `--override-flake ORIGINAL RESOLVED`. Each pair is checked
 * as Nix checks it, and the layer they make is searched first.
 */
export function parseOverrides(values: readonly string[] | undefined): { pairs: FlakeOverride[]; layer?: LayerRef } {
  if (values === undefined || values.length === 0) return { pairs: [] };
  if (values.length % 2 !== 0) {
    throw new Problem(
      'invalid-request',
      `${OVERRIDE_PARAM}: takes its values in pairs, ORIGINAL then RESOLVED, as Nix's --override-flake ORIGINAL RESOLVED; got ${values.length} values`,
      { parameter: OVERRIDE_PARAM },
    );
  }
  const pairs: FlakeOverride[] = [];
  for (let i = 0; i < values.length; i += 2) {
    pairs.push({ original: values[i] as string, resolved: values[i + 1] as string });
  }
  try {
    return { pairs, layer: overrideLayer(pairs) };
  } catch (error) {
    if (!(error instanceof OverrideError)) throw error;
    throw new Problem('invalid-request', error.message, { parameter: OVERRIDE_PARAM });
  }
}

export interface LayerSpec {
  readonly name: string;
  readonly version?: number;
}

/** `registry=a,b@3`: registries in search order, each at its latest or a pinned version. */
export function parseLayers(value: string | undefined): LayerSpec[] {
  if (value === undefined) return [{ name: 'global' }];
  const parts = value.split(',');
  if (parts.length > MAX_LAYERS) {
    throw new Problem('invalid-request', `registry: at most ${MAX_LAYERS} registries can be layered`, {
      parameter: 'registry',
    });
  }
  return parts.map((part) => {
    const [name = '', pin, ...rest] = part.split('@');
    if (!REGISTRY_NAME.test(name) || rest.length > 0 || (pin !== undefined && !VERSION.test(pin))) {
      throw new Problem('invalid-request', `registry: '${part}' is not NAME or NAME@VERSION`, {
        parameter: 'registry',
      });
    }
    return pin === undefined ? { name } : { name, version: Number(pin) };
  });
}

export interface Layer extends LayerRef {
  readonly created: string;
  /** A latest version made in the same second as the one before it. */
  readonly sharedSecond: boolean;
}

/**
 * The versions `specs` name, for lookups: `lookup` through each version's lookup form
 * where it has one (no file read; shards are loaded as lookups ask, `withShards`),
 * `file` through each version's file read as Nix reads it (for many lookups at once).
 */
export async function loadLayers(
  store: RegistryStore,
  specs: readonly LayerSpec[],
  through: 'lookup' | 'file' = 'lookup',
): Promise<Layer[]> {
  return Promise.all(
    specs.map(async (spec) => {
      const head = spec.version === undefined ? await hostedHead(store, spec.name) : undefined;
      const n = spec.version ?? (head as Head).version;
      const { record, finder } =
        through === 'lookup'
          ? await pinnedLookup(store, spec.name, n)
          : await pinnedVersion(store, spec.name, n).then((v) => ({ record: v.record, finder: store.indexOf(v) }));
      const sharedSecond = head?.sharedSecond === true;
      return { name: record.registry, version: record.version, index: finder, created: record.created, sharedSecond };
    }),
  );
}

/**
 * Runs `compute` over `layers`, loading each shard its lookups ask for and running it
 * again, until it needs none. A lookup form found to disagree with its version is
 * replaced by the version's file, read as Nix reads it: what is answered never
 * depends on a form that disagrees.
 */
export async function withShards<T>(
  store: RegistryStore,
  layers: readonly Layer[],
  compute: (layers: readonly Layer[]) => T,
): Promise<T> {
  let current = layers;
  for (;;) {
    try {
      return compute(current);
    } catch (error) {
      let refused: unknown = error;
      if (error instanceof ShardNeeded) {
        try {
          await store.loadShard(error);
          continue;
        } catch (loading) {
          refused = loading;
        }
      }
      if (!(refused instanceof LookupFormError)) throw refused;
      const lookup = error instanceof ShardNeeded ? error.lookup : refused.lookup;
      if (lookup === undefined) throw refused;
      const { finder } = await store.rejectLookup(lookup, refused);
      current = current.map((l) => (l.index === lookup ? { ...l, index: finder } : l));
    }
  }
}

const refJson = (ref: FlakeRef) => ({
  url: flakeRefToString(ref),
  // Sorted, as Nix prints attributes (`nix flake metadata --json`).
  attrs: sortAttrs(flakeRefToAttrs(ref)),
  ...(ref.dir === '' ? {} : { dir: ref.dir }),
});

export const stepJson = (step: Step) => ({
  registry: step.registry,
  version: step.version,
  index: step.index,
  exact: step.exact,
  from: inputToURL(step.from),
  to: inputToURL(step.to),
  ...(step.dir === undefined ? {} : { dir: step.dir }),
});

export const entryJson = (entry: FailedEntry) => ({
  registry: entry.registry,
  version: entry.version,
  index: entry.index,
  exact: entry.exact,
  from: inputToURL(entry.from),
  to: inputToURL(entry.to),
});

function requireRef(ref: string | undefined): string {
  if (ref === undefined) {
    throw new Problem('invalid-request', "the 'ref' query parameter is required", { parameter: 'ref' });
  }
  if (ref.length > MAX_FLAKE_REF_LENGTH) {
    throw new Problem('invalid-ref', `flake reference is longer than ${MAX_FLAKE_REF_LENGTH} characters`);
  }
  return ref;
}

function resolution(status: number, contentType: string, body: string): Resolution {
  return { status, contentType, body, bytes: utf8(body) };
}

const problemAnswer = (problem: Problem): Resolution =>
  resolution(problem.status, PROBLEM_CONTENT_TYPE, problemBody(problem, '/resolve'));

/** What `text` resolves to in `layers` below the overrides, or Nix's error: either is final for these versions. */
function answer(
  text: string,
  layers: readonly LayerRef[],
  overrides: { readonly pairs: readonly FlakeOverride[]; readonly layer?: LayerRef },
): Resolution {
  let query: FlakeRef;
  try {
    query = parseFlakeRef(text);
  } catch (error) {
    if (error instanceof NixError) return problemAnswer(Problem.fromNix(error, { input: text }));
    throw error;
  }
  const registries = layers.map((l) => ({ name: l.name, version: l.version }));
  const given = overrides.pairs.length === 0 ? {} : { overrides: overrides.pairs.map((o) => ({ ...o })) };
  const result = resolve(query, overrides.layer ? [overrides.layer, ...layers] : layers);
  const steps = result.steps.map(stepJson);
  if (!result.ok) {
    const entry = result.entry === undefined ? {} : { entry: entryJson(result.entry) };
    return problemAnswer(
      Problem.fromNix(result.error, { input: text, ref: refJson(query), steps, ...entry, registries, ...given }),
    );
  }
  const body = { ref: refJson(query), resolved: refJson(result.resolved), steps, registries, ...given };
  return resolution(200, 'application/json', JSON.stringify(body));
}

/** A 200 answer's validator: the hash of the versions searched and the ref, which fix the body. */
const etagOf = async (key: string): Promise<string> => etagFor(await sha256Hex(key));

/** What `/resolve` answers for one ref and one `registry` parameter, with the versions it searched. */
export interface ResolveOutcome {
  readonly answer: Resolution;
  readonly layers: readonly Layer[];
  readonly pinned: boolean;
}

/**
 * The answer of `/resolve` to `ref` in the registries `registry` names (as the
 * query parameter spells them), computed once per isolate and reused: versions
 * never change. The JSON route and the web page both answer from this.
 */
export async function resolveRef(
  store: RegistryStore,
  resolutions: AppEnv['Variables']['resolutions'],
  ref: string | undefined,
  registry: string | undefined,
  override: readonly string[] = [],
): Promise<ResolveOutcome> {
  const text = requireRef(ref);
  const specs = parseLayers(registry);
  const overrides = parseOverrides(override);
  const layers = await loadLayers(store, specs);
  const key = `${layers.map((l) => `${l.name}@${l.version}`).join(',')}\n${text}${override.length === 0 ? '' : `\n${JSON.stringify(override)}`}`;
  let found = resolutions.get(key);
  if (found === undefined) {
    const computed = await withShards(store, layers, (ls) => answer(text, ls, overrides));
    found = computed.status === 200 ? { ...computed, etag: await etagOf(key) } : computed;
    resolutions.set(key, found);
  }
  return { answer: found, layers, pinned: specs.every((s) => s.version !== undefined) };
}

/**
 * `GET /resolve?ref=REF[&registry=...][&override-flake=ORIGINAL&override-flake=RESOLVED...]`:
 * what Nix would resolve REF to, and how.
 */
export const resolveRoutes = new Hono<AppEnv>().get('/resolve', async (c) => {
  try {
    const query = queryParams(c.req.url, ['ref', 'registry'], [OVERRIDE_PARAM]);
    const {
      answer: found,
      layers,
      pinned,
    } = await resolveRef(c.var.store, c.var.resolutions, query.ref, query.registry, query[OVERRIDE_PARAM]);
    if (found.etag === undefined) {
      return new Response(found.bytes, {
        status: found.status,
        headers: { 'Content-Type': found.contentType, 'Cache-Control': cacheControl.none },
      });
    }
    return respondWith(c.req.raw, {
      validators: {
        etag: found.etag,
        lastModified: newest(layers.map((l) => l.created)),
        ...(layers.some((l) => l.sharedSecond) ? { sharedSecond: true } : {}),
      },
      bytes: found.bytes,
      contentType: found.contentType,
      headers: {
        'Cache-Control': pinned ? cacheControl.immutable : cacheControl.latest(c.var.config),
        'X-Registry-Name': layers.map((l) => l.name).join(', '),
        'X-Registry-Version': layers.map((l) => l.version).join(', '),
      },
    });
  } catch (error) {
    // Every /resolve error names the ref as given, whatever failed.
    const problem = toProblem(error);
    throw 'input' in problem.extensions ? problem : problem.with({ input: firstQueryValue(c.req.url, 'ref') ?? null });
  }
});

function newest(times: readonly string[]): Date {
  return new Date(Math.max(...times.map((t) => Date.parse(t))));
}
