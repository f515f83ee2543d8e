import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildCases, buildRegistry, type Case } from './cases.js';
import { buildFixture, removeTree, type Fixture } from './fixture.js';
import { classifyError, mapLimit, nixAvailable, nixRunner, normalizeUrl, type Failure, type NixRunner } from './nix.js';
import { parseRegistryList } from './registry-list.js';
import type { DevServer } from '../../scripts/dev-server.js';
import { startRecordingProxy, startWrangler, WORK_DIR, type RecordingProxy } from './server.js';

/**
 * Real Nix against the service: the service is started on a registry whose targets
 * are git repositories and path flakes made by this suite, Nix is pointed at it with
 * `flake-registry = …`, and Nix's answers are the expected ones.
 *
 * The suite installs nothing: without `nix` on PATH it is skipped, except under
 * CI=true, where `.ci/run` has installed Debian's nix-bin and a missing Nix is a failure.
 */

const nixVersion = nixAvailable();
const ci = process.env['CI'] === 'true';

if (nixVersion === undefined) {
  if (ci) {
    describe('conformance with real Nix', () => {
      it('finds nix on PATH (required when CI=true; .ci/run installs nix-bin)', () => {
        expect.fail('nix is not on PATH');
      });
    });
  } else {
    console.warn('conformance: skipped, `nix` is not on PATH (apt-get install nix-bin, or run .ci/run)');
  }
}

/** What one side answered for a ref: the resolved attributes, or a classified error. */
type Outcome = { readonly kind: 'ok'; readonly resolved: unknown } | Failure;

interface Compared {
  readonly c: Case;
  readonly nix: Outcome;
  readonly service: Outcome & { readonly problemType?: string; readonly status: number };
}

/** Parallel `nix` processes: the CI machine has 2 cores. */
const NIX_PARALLELISM = 2;

// Built at collection time so each ref is its own test; cheap (a few git commits).
const fx: Fixture | undefined = nixVersion === undefined ? undefined : buildFixture();
const cases: Case[] = fx === undefined ? [] : buildCases(fx);
const shown = (s: string): string => (fx === undefined ? s : s.replaceAll(fx.root, '$ROOT'));

describe.skipIf(nixVersion === undefined)(`conformance with real Nix (${nixVersion ?? 'absent'})`, () => {
  let serverDir: string | undefined;
  let server: DevServer;
  let proxy: RecordingProxy;
  let nix: NixRunner;
  let registry: ReturnType<typeof buildRegistry>;
  let results: Map<Case, Compared>;

  beforeAll(async () => {
    const fixture = fx as Fixture;
    registry = buildRegistry(fixture);
    const registryJson = JSON.stringify(registry, null, 2);
    const registryFile = join(fixture.root, 'registry.json');
    writeFileSync(registryFile, registryJson);
    mkdirSync(WORK_DIR, { recursive: true });
    writeFileSync(join(WORK_DIR, 'registry.json'), registryJson);

    const started = Date.now();
    // Fresh local KV and Durable Object state: the service seeds version 1 from worker.ts.
    serverDir = mkdtempSync(join(tmpdir(), 'flake-registry-conformance-server-'));
    server = await startWrangler(serverDir, registryFile);
    proxy = await startRecordingProxy(server.origin);
    nix = nixRunner(fixture.root, `${proxy.url}/flake-registry.json`);
    await nix.init();
    console.info(`conformance: wrangler dev up in ${Date.now() - started} ms at ${server.origin}`);

    const t0 = Date.now();
    const compared = await mapLimit(cases, NIX_PARALLELISM, async (c) => ({
      c,
      nix: await askNix(nix, c.ref),
      service: await askService(server.origin, c.ref),
    }));
    results = new Map(compared.map((r) => [r.c, r]));
    console.info(`conformance: ${cases.length} refs through nix flake metadata and /resolve in ${Date.now() - t0} ms`);
  });

  afterAll(async () => {
    await proxy?.stop();
    await server?.stop();
    if (serverDir !== undefined) removeTree(serverDir);
    if (fx !== undefined) removeTree(fx.root);
  });

  it('serves the registry it was started with as the latest global file', async () => {
    const res = await fetch(`${server.origin}/flake-registry.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(registry);
  });

  it('covers every lookup rule with at least 40 refs', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    const kinds = new Set(cases.map((c) => c.expect));
    expect([...kinds].sort()).toEqual(['cycle', 'invalid-ref', 'not-found', 'ok', 'override']);
  });

  it('lets `nix registry list` read every served entry, in order', async () => {
    const out = await nix.run(['registry', 'list']);
    expect(out.code, out.stderr).toBe(0);
    const listed = parseRegistryList(shown(out.stdout));
    // `exact` is not printed; `to.dir` is printed as a query parameter of TO.
    const served = registry.flakes.map((e) => ({
      registry: 'global',
      from: e.from,
      to: e.to,
    }));
    expect(listed).toEqual(JSON.parse(shown(JSON.stringify(served))));
  });

  it('lets Nix read a pinned version URL like the latest one', async () => {
    const pinned = nixRunner((fx as Fixture).root, `${proxy.url}/registries/global/versions/1/flake-registry.json`);
    const [viaLatest, viaPinned] = await Promise.all([nix.run(['registry', 'list']), pinned.run(['registry', 'list'])]);
    expect(viaPinned.code, viaPinned.stderr).toBe(0);
    expect(viaPinned.stdout).toBe(viaLatest.stdout);
  });

  it('answers Nix’s revalidation of its cached registry with 304', async () => {
    // One HOME for both commands, so the second finds the first's cached registry;
    // tarball-ttl = 0 makes it revalidate at once.
    const home = join((fx as Fixture).root, 'homes', 'revalidate');
    const before = proxy.exchanges.length;
    const first = await nix.run(['registry', 'list'], home);
    const second = await nix.run(['registry', 'list'], home);
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);

    const seen = proxy.exchanges.slice(before).filter((x) => x.path === '/flake-registry.json');
    expect(seen.map((x) => [x.method, x.status])).toEqual([
      ['GET', 200],
      ['GET', 304],
    ]);
    const [fetched, revalidated] = seen as [(typeof seen)[0], (typeof seen)[0]];
    expect(fetched.requestHeaders['if-none-match']).toBeUndefined();
    const etag = fetched.responseHeaders['etag'];
    expect(etag).toMatch(/^"[^"]+"$/); // strong: Nix sends it back exactly as stored
    expect(revalidated.requestHeaders['if-none-match']).toBe(etag);
    // Newer Nix forgets the ETag when a 304 omits it (src/libstore/filetransfer.cc).
    expect(revalidated.responseHeaders['etag']).toBe(etag);
  });

  describe('/resolve agrees with `nix flake metadata --json`', () => {
    it.each(cases.map((c) => [`${shown(c.ref)} (${c.rule})`, c] as const))('%s', (_, c) => {
      const r = results.get(c) as Compared;
      const context = shown(JSON.stringify({ ref: c.ref, nix: r.nix, service: r.service }, null, 2));

      // The fixture must really exercise the rule the case is about.
      expect(r.nix.kind, `fixture: Nix did not give the intended outcome\n${context}`).toBe(c.expect);

      if (r.nix.kind === 'ok') {
        expect(r.service.status, context).toBe(200);
        expect(r.service.kind === 'ok' ? r.service.resolved : r.service, context).toEqual(r.nix.resolved);
        return;
      }
      expect(r.service.problemType, context).toBe(`urn:flake-registry:problem:${r.nix.kind}`);
      expect(r.service.kind, context).toBe(r.nix.kind);
      // Parse-error wording differs between 2.8 and current Nix (and between parsers
      // of the same ref); for lookup errors the quoted flake ref must be the same.
      if (r.nix.kind !== 'invalid-ref') {
        const svc = r.service as Failure;
        expect(normalizeUrl(svc.subject), context).toBe(normalizeUrl(r.nix.subject));
      }
    });
  });
});

async function askNix(nix: NixRunner, ref: string): Promise<Outcome> {
  // `--no-write-lock-file`: the fixture flakes carry their lock; never touch them.
  const out = await nix.run(['flake', 'metadata', '--json', '--no-write-lock-file', ref]);
  if (out.code !== 0) return classifyError(out.stderr);
  // `resolved` is FlakeRef::toAttrs of the registry lookup's result: the input's
  // attributes plus `dir` when set. URL strings are not compared (2.8 prints them
  // differently from current Nix).
  const meta = JSON.parse(out.stdout) as { resolved: unknown };
  return { kind: 'ok', resolved: meta.resolved };
}

async function askService(
  base: string,
  ref: string,
): Promise<Outcome & { readonly problemType?: string; readonly status: number }> {
  const res = await fetch(`${base}/resolve?ref=${encodeURIComponent(ref)}`);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: 'other', subject: undefined, message: `unparsable body: ${text}`, status: res.status };
  }
  if (res.status === 200) {
    const resolved = (body as { resolved?: { attrs?: unknown } }).resolved?.attrs;
    return { kind: 'ok', resolved, status: res.status };
  }
  const problem = body as { type?: string; detail?: string };
  return {
    ...classifyError(problem.detail ?? ''),
    status: res.status,
    ...(problem.type === undefined ? {} : { problemType: problem.type }),
  };
}
