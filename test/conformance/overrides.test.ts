import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RegistryIndex, type LayerRef } from '../../src/nix/lookup.js';
import type { FlakeOverride } from '../../src/nix/overrides.js';
import { readRegistry } from '../../src/nix/registry.js';
import { buildFixture, removeTree, type Fixture } from './fixture.js';
import { mapLimit, nixAvailable, nixRunner, type NixRunner } from './nix.js';
import type { DevServer } from '../../scripts/dev-server.js';
import {
  comparable,
  coreResolveWithOverrides,
  nixResolveWithOverrides,
  serviceResolveWithOverrides,
  type OverrideOutcome,
} from './overrides.js';
import { startWrangler } from './server.js';

/**
 * `--override-flake` in real Nix against the core's override layer and the service's
 * `/resolve`: Nix reads the global registry from a local file and looks refs up with overrides
 * on its command line; the core searches the same file below the same overrides, and a local
 * service started on that file answers `/resolve?…&override-flake=ORIGINAL&override-flake=RESOLVED`.
 * Skipped without `nix` on PATH (the main conformance suite fails instead under CI=true).
 */

const nixVersion = nixAvailable();
const fx: Fixture | undefined = nixVersion === undefined ? undefined : buildFixture();

interface Case {
  readonly ref: string;
  readonly overrides: readonly FlakeOverride[];
  readonly rule: string;
  readonly expect: 'ok' | 'not-found' | 'cycle' | 'override';
}

function cases(f: Fixture): Case[] {
  const A = `git+file://${f.repoA}`;
  const B = `git+file://${f.repoB}`;
  const o = (original: string, resolved: string): FlakeOverride => ({ original, resolved });
  return [
    { ref: 'a', overrides: [o('a', B)], rule: 'an override wins over the global registry', expect: 'ok' },
    { ref: 'a/dev', overrides: [o('a', `${B}?dir=sub`)], rule: 'not exact: the ref passes on; dir kept', expect: 'ok' },
    { ref: 'a', overrides: [o('flake:a?dir=zzz', B)], rule: "ORIGINAL's dir is dropped", expect: 'ok' },
    { ref: 'a', overrides: [o('a', 'flake:b'), o('a', `${A}?ref=dev`)], rule: 'the first flag wins', expect: 'ok' },
    { ref: 'chain', overrides: [o('a', B)], rule: 'every hop starts again at the overrides', expect: 'ok' },
    { ref: 'b/dev', overrides: [o('a', B)], rule: 'an override for another id changes nothing', expect: 'ok' },
    { ref: 'amain', overrides: [o('amain', 'flake:b')], rule: 'an override into the registry', expect: 'ok' },
    { ref: 'nope', overrides: [o('nope', `${A}?ref=dev`)], rule: 'an override adds an id', expect: 'ok' },
    { ref: 'nope', overrides: [], rule: 'without it the id is not found', expect: 'not-found' },
    { ref: 'a', overrides: [o('a', 'flake:b'), o('b', 'flake:a')], rule: 'a cycle of overrides', expect: 'cycle' },
    { ref: 'a/dev', overrides: [o('a', `path:${f.pathP}`)], rule: 'a target that takes no ref', expect: 'override' },
  ];
}

describe.skipIf(fx === undefined)(`--override-flake against real Nix (${nixVersion ?? 'absent'})`, () => {
  const f = fx as Fixture;
  let nix: NixRunner;
  let layers: LayerRef[];
  let answers: Map<Case, OverrideOutcome>;
  let served: Map<Case, OverrideOutcome>;
  let server: DevServer | undefined;
  let serverDir: string | undefined;
  const list = fx === undefined ? [] : cases(fx);

  beforeAll(async () => {
    const registry = {
      version: 2,
      flakes: [
        { from: { type: 'indirect', id: 'a' }, to: { type: 'git', url: `file://${f.repoA}` } },
        { from: { type: 'indirect', id: 'amain' }, to: { type: 'git', url: `file://${f.repoA}`, ref: 'main' } },
        { from: { type: 'indirect', id: 'b' }, to: { type: 'git', url: `file://${f.repoB}`, ref: 'main' } },
        { from: { type: 'indirect', id: 'chain' }, to: { type: 'indirect', id: 'a' } },
      ],
    };
    const file = join(f.root, 'override-registry.json');
    writeFileSync(file, JSON.stringify(registry, null, 2));
    layers = [{ name: 'global', version: 1, index: new RegistryIndex(readRegistry(JSON.stringify(registry))) }];
    nix = nixRunner(f.root, file);
    await nix.init();
    const found = await mapLimit(list, 2, (c) => nixResolveWithOverrides(nix, c.ref, c.overrides));
    answers = new Map(list.map((c, i) => [c, found[i] as OverrideOutcome]));
    serverDir = mkdtempSync(join(tmpdir(), 'flake-registry-overrides-server-'));
    server = await startWrangler(serverDir, file);
    const origin = server.origin;
    const fromService = await mapLimit(list, 4, (c) => serviceResolveWithOverrides(origin, c.ref, c.overrides));
    served = new Map(list.map((c, i) => [c, fromService[i] as OverrideOutcome]));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (serverDir !== undefined) removeTree(serverDir);
    if (fx !== undefined) removeTree(fx.root);
  });

  it.each(list.map((c) => [`${c.ref} with ${c.overrides.length} override(s): ${c.rule}`, c] as const))('%s', (_, c) => {
    const fromNix = answers.get(c) as OverrideOutcome;
    const context = JSON.stringify({ case: c, nix: fromNix }, null, 2).replaceAll(f.root, '$ROOT');
    expect(fromNix.kind, `fixture: Nix did not give the intended outcome\n${context}`).toBe(c.expect);
    expect(comparable(coreResolveWithOverrides(c.ref, c.overrides, layers)), context).toEqual(comparable(fromNix));
    expect(comparable(served.get(c) as OverrideOutcome), `the service's /resolve\n${context}`).toEqual(
      comparable(fromNix),
    );
  });
});
