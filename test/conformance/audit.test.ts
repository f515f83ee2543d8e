import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { compareAudits } from '../../src/nix/audit-compare.js';
import { audit, type Audit } from '../../src/nix/audit.js';
import type { Json } from '../../src/nix/document.js';
import { readLockFile } from '../../src/nix/lockfile.js';
import { RegistryIndex, type LayerRef } from '../../src/nix/lookup.js';
import { withOverrides, type FlakeOverride } from '../../src/nix/overrides.js';
import { readRegistry } from '../../src/nix/registry.js';
import { buildFixture, removeTree, type Fixture } from './fixture.js';
import { nixAvailable, nixRunner, type NixRunner } from './nix.js';
import { overrideArgs } from './overrides.js';

/**
 * The audit's prediction against what real Nix does: a flake whose inputs go through the
 * registry is locked by Nix, audited, then updated by Nix with an override in force; the new
 * lock must hold what the audit said each input would move to, and nothing else may move.
 * No service is started: Nix reads the global registry from a local file.
 */

const nixVersion = nixAvailable();
const fx: Fixture | undefined = nixVersion === undefined ? undefined : buildFixture();

const statuses = (a: Audit): [string, string][] => a.rows.map((r) => [r.id, r.status.kind]);

describe.skipIf(fx === undefined)(`audit predictions against real Nix (${nixVersion ?? 'absent'})`, () => {
  const f = fx as Fixture;
  const top = join(f.root, 'top');
  const lockPath = join(top, 'flake.lock');
  let nix: NixRunner;
  let layers: LayerRef[];
  let overrides: FlakeOverride[];
  let before: Json;
  let after: Json;

  const run = async (args: string[]): Promise<void> => {
    const out = await nix.run(args);
    if (out.code !== 0) throw new Error(`nix ${args.join(' ')} failed:\n${out.stderr}`);
  };

  beforeAll(async () => {
    const registry = {
      version: 2,
      flakes: [
        { from: { type: 'indirect', id: 'a' }, to: { type: 'git', url: `file://${f.repoA}` } },
        { from: { type: 'indirect', id: 'b' }, to: { type: 'git', url: `file://${f.repoB}`, ref: 'main' } },
      ],
    };
    const file = join(f.root, 'audit-registry.json');
    writeFileSync(file, JSON.stringify(registry, null, 2));
    layers = [{ name: 'global', version: 1, index: new RegistryIndex(readRegistry(JSON.stringify(registry))) }];
    overrides = [{ original: 'a', resolved: `git+file://${f.repoB}` }];
    nix = nixRunner(f.root, file);
    await nix.init();

    mkdirSync(top, { recursive: true });
    writeFileSync(
      join(top, 'flake.nix'),
      `{
  inputs = {
    x.url = "a";
    y.url = "b";
    z.url = "a/dev";
    w.follows = "x";
    p.url = "git+file://${f.repoB}";
    q = { url = "a"; flake = false; };
  };
  outputs = _: { };
}
`,
    );
    await run(['flake', 'lock', `path:${top}`]);
    before = JSON.parse(readFileSync(lockPath, 'utf8')) as Json;
    await run(['flake', 'update', ...overrideArgs(overrides), `path:${top}`]);
    after = JSON.parse(readFileSync(lockPath, 'utf8')) as Json;
  });

  afterAll(() => {
    if (fx !== undefined) removeTree(fx.root);
  });

  it('reads the lock file Nix wrote and finds every registry input on its source', () => {
    expect(statuses(audit(before, layers))).toEqual([
      ['p', 'direct'],
      ['q', 'same-source'],
      ['w', 'same-source'],
      ['x', 'same-source'],
      ['y', 'same-source'],
      ['z', 'same-source'],
    ]);
  });

  it('predicts which inputs an override redirects, and Nix’s update moves exactly those, to the predicted source', () => {
    const predicted = audit(before, withOverrides(overrides, layers));
    expect(statuses(predicted)).toEqual([
      ['p', 'direct'],
      ['q', 'redirected'],
      ['w', 'redirected'],
      ['x', 'redirected'],
      ['y', 'same-source'],
      ['z', 'redirected'],
    ]);
    const old = readLockFile(before);
    const updated = readLockFile(after);
    const lockedAt = (l: typeof old, id: string) => {
      const key = l.inputs.find((i) => i.input === id)?.node;
      return l.nodes.find((n) => n.key === key)?.locked.attrs;
    };
    for (const row of predicted.rows) {
      const now = lockedAt(updated, row.id);
      if (row.status.kind === 'redirected') {
        const to = row.resolved?.attrs ?? {};
        expect({ url: now?.['url'], ref: now?.['ref'] }, row.id).toMatchObject({
          url: to['url'],
          ...(to['ref'] === undefined ? {} : { ref: to['ref'] }),
        });
      } else {
        expect(now?.['url'], row.id).toBe(lockedAt(old, row.id)?.['url']);
      }
    }
  });

  it('finds the updated lock on the overridden sources, and the comparison names the rows that moved', () => {
    expect(statuses(audit(after, withOverrides(overrides, layers))).map(([, s]) => s)).toEqual([
      'direct',
      'same-source',
      'same-source',
      'same-source',
      'same-source',
      'same-source',
    ]);
    const c = compareAudits(audit(before, layers), audit(before, withOverrides(overrides, layers)));
    expect(c.changed.map((d) => d.id)).toEqual(['q', 'w', 'x', 'z']);
  });
});
