import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AuditAnswer, ProposalAuditAnswer } from '../../src/api/answers.js';
import type { Attrs } from '../../src/nix/attrs.js';
import type { Json } from '../../src/nix/document.js';
import { readLockFile } from '../../src/nix/lockfile.js';
import type { DevServer } from '../../scripts/dev-server.js';
import { runCli, type Run } from './cli.js';
import { buildFixture, removeTree, type Fixture } from './fixture.js';
import { nixAvailable, nixRunner, type NixRunner } from './nix.js';
import { startWrangler } from './server.js';

/**
 * The audit through the service, against real Nix: Nix locks a flake whose inputs are indirect
 * through the registry this service serves (`flake-registry = URL/flake-registry.json`,
 * `tarball-ttl = 0`); a signed proposal redirects one entry to another repository and leaves
 * another as it is; `flake-registry audit --proposal` before the merge and `flake-registry audit`
 * of the old lock after it name the same inputs, redirected to the same sources; then
 * `nix flake update`, pointed at the same registry, re-locks exactly those inputs, to those
 * sources. Offline: every target is a `git+file` repository. Skipped without `nix` on PATH
 * (nix.test.ts fails instead under CI=true).
 */

const nixVersion = nixAvailable();

describe.skipIf(nixVersion === undefined)(
  `audit through the service against real Nix (${nixVersion ?? 'absent'})`,
  () => {
    let fx: Fixture;
    let work: string;
    let server: DevServer | undefined;
    let nix: NixRunner;
    let top: string;
    let oldLock: Json;
    let newLock: Json;
    let proposalAudit: ProposalAuditAnswer;
    let proposalAuditCode: number;
    let mergedAudit: AuditAnswer;
    let mergedAuditCode: number;
    let mergedProposalAudit: ProposalAuditAnswer;

    const cli = (...args: string[]): Promise<Run> => runCli(args, work, server?.origin ?? 'http://127.0.0.1:9');

    async function ok(...args: string[]): Promise<string> {
      const r = await cli(...args);
      expect(r.code, `flake-registry ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    }

    async function nixOk(args: string[]): Promise<void> {
      const r = await nix.run(args);
      if (r.code !== 0) throw new Error(`nix ${args.join(' ')} failed:\n${r.stderr}`);
    }

    /** `flake-registry audit ... --json`: its answer and exit status. */
    async function auditJson<T>(...args: string[]): Promise<{ code: number; answer: T }> {
      const r = await cli('audit', ...args, '--json');
      if (r.code !== 0 && r.code !== 4) throw new Error(`flake-registry audit ${args.join(' ')}: ${r.stderr}`);
      return { code: r.code, answer: JSON.parse(r.stdout) as T };
    }

    /** What each root input of a lock is locked to, by input path. */
    function locked(json: Json): Map<string, Attrs> {
      const lock = readLockFile(json);
      const nodes = new Map(lock.nodes.map((n) => [n.key, n.locked.attrs]));
      return new Map(lock.inputs.map((i) => [i.input, nodes.get(i.node) ?? {}]));
    }

    beforeAll(async () => {
      fx = buildFixture();
      work = mkdtempSync(join(tmpdir(), 'flake-registry-audit-nix-'));
      const registry = {
        version: 2,
        flakes: [
          { from: { type: 'indirect', id: 'a' }, to: { type: 'git', url: `file://${fx.repoA}` } },
          { from: { type: 'indirect', id: 'b' }, to: { type: 'git', url: `file://${fx.repoB}`, ref: 'main' } },
        ],
      };
      const registryFile = join(work, 'registry.json');
      writeFileSync(registryFile, JSON.stringify(registry, null, 2));
      for (const name of ['alice', 'bob']) await ok('keygen', '--name', name, '--out', `${name}.sec`);
      const pubs = await Promise.all(['alice', 'bob'].map(async (n) => (await ok('pubkey', `${n}.sec`)).trim()));
      mkdirSync(join(work, 'server'));
      server = await startWrangler(join(work, 'server'), registryFile, [
        '--var',
        `DEV_TRUSTED_KEYS:${pubs.join(' ')}`,
        '--log-level',
        'warn',
      ]);
      nix = nixRunner(join(work, 'nix'), `${server.origin}/flake-registry.json`);
      await nix.init();

      top = join(work, 'top');
      mkdirSync(top, { recursive: true });
      writeFileSync(
        join(top, 'flake.nix'),
        `{
  inputs = {
    x.url = "a";
    y.url = "b";
    z.url = "a/dev";
    w.follows = "x";
  };
  outputs = _: { };
}
`,
      );
      await nixOk(['flake', 'lock', `path:${top}`]);
      oldLock = JSON.parse(readFileSync(join(top, 'flake.lock'), 'utf8')) as Json;
      writeFileSync(join(work, 'old.lock'), JSON.stringify(oldLock));

      // One entry redirected to another repository; b stays as it is.
      const id = (
        await ok(
          'propose',
          'set',
          'a',
          `git+file://${fx.repoB}`,
          '--registry',
          'global',
          '--key',
          'alice.sec',
          '--id-only',
        )
      ).trim();
      ({ code: proposalAuditCode, answer: proposalAudit } = await auditJson<ProposalAuditAnswer>(
        'old.lock',
        '--proposal',
        id,
      ));
      const merged = JSON.parse(
        await ok('approve', id, '--registry', 'global', '--key', 'bob.sec', '--yes', '--json'),
      ) as {
        status: string;
      };
      expect(merged.status).toBe('merged');
      ({ code: mergedAuditCode, answer: mergedAudit } = await auditJson<AuditAnswer>('old.lock'));
      ({ answer: mergedProposalAudit } = await auditJson<ProposalAuditAnswer>('old.lock', '--proposal', id));

      await nixOk(['flake', 'update', `path:${top}`]);
      newLock = JSON.parse(readFileSync(join(top, 'flake.lock'), 'utf8')) as Json;
    }, 300_000);

    afterAll(async () => {
      await server?.stop();
      if (work) removeTree(work);
      if (fx) removeTree(fx.root);
    });

    const statuses = (a: AuditAnswer) => a.rows.map((r) => [r.id, r.status.kind]);

    it('finds every input of the lock Nix wrote through the service on its source, before the proposal', () => {
      expect(proposalAudit.from).toBe(1);
      expect(statuses(proposalAudit.before)).toEqual([
        ['w', 'same-source'],
        ['x', 'same-source'],
        ['y', 'same-source'],
        ['z', 'same-source'],
      ]);
    });

    it('the open proposal’s audit names the inputs it redirects, and exits 4', () => {
      expect(proposalAuditCode).toBe(4);
      expect(proposalAudit.status).toBe('open');
      expect(proposalAudit.changed.map((d) => [d.id, d.before.status.kind, d.after.status.kind])).toEqual([
        ['w', 'same-source', 'redirected'],
        ['x', 'same-source', 'redirected'],
        ['z', 'same-source', 'redirected'],
      ]);
      expect(proposalAudit.unchanged).toBe(1);
      const x = proposalAudit.after.rows.find((r) => r.id === 'x');
      expect(x?.status).toEqual({
        kind: 'redirected',
        changes: [{ attribute: 'url', from: `file://${fx.repoA}`, to: `file://${fx.repoB}` }],
      });
    });

    it('the audit of the old lock after the merge says what the proposal’s audit said, and exits 4', () => {
      expect(mergedAuditCode).toBe(4);
      expect(mergedAudit.registries).toEqual([{ name: 'global', version: 2 }]);
      expect(mergedAudit.rows).toEqual(proposalAudit.after.rows);
      expect(mergedProposalAudit).toMatchObject({ status: 'merged', from: 1, to: 2 });
      expect(mergedProposalAudit.changed).toEqual(proposalAudit.changed);
    });

    it('nix flake update re-locks exactly the inputs the audit named redirected, to the sources it named', () => {
      const before = locked(oldLock);
      const after = locked(newLock);
      expect([...after.keys()]).toEqual([...before.keys()]);
      for (const row of mergedAudit.rows) {
        const now = after.get(row.id);
        if (row.status.kind === 'redirected') {
          const to = row.resolved?.attrs ?? {};
          expect(now?.['url'], row.id).toBe(to['url']);
          expect(now?.['url'], row.id).not.toBe(before.get(row.id)?.['url']);
          if (to['ref'] !== undefined) expect(now?.['ref'], row.id).toBe(to['ref']);
          expect(now?.['rev'], row.id).toBe(fx.revBMain);
        } else {
          expect(now, row.id).toEqual(before.get(row.id));
        }
      }
    });

    it('finds the updated lock on its sources: nothing redirected, exit 0', async () => {
      writeFileSync(join(work, 'new.lock'), JSON.stringify(newLock));
      const { code, answer } = await auditJson<AuditAnswer>('new.lock');
      expect(statuses(answer).map(([, s]) => s)).toEqual(['same-source', 'same-source', 'same-source', 'same-source']);
      expect(code).toBe(0);
    });
  },
);
