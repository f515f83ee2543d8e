import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../scripts/dev-server.js';
import { runCli, type Run } from './cli.js';
import { buildFixture, removeTree, type Fixture } from './fixture.js';
import { nixAvailable, nixRunner, type NixRunner } from './nix.js';
import { REPO_ROOT } from './server.js';

/**
 * `flake-registry sync` as a machine runs it, with real Nix reading the file it writes
 * through a local path (`flake-registry = FILE`): Nix sees exactly the versions sync
 * verified, sees a merge once sync has verified it, and keeps resolving from FILE when the
 * server is gone. Skipped without `nix` on PATH, except under CI=true, where nix.test.ts
 * already fails for it.
 */

const nixVersion = nixAvailable();

describe.skipIf(nixVersion === undefined)(
  `sync hands real Nix only verified versions (${nixVersion ?? 'absent'})`,
  () => {
    let fx: Fixture;
    let work: string;
    let server: DevServer | undefined;
    let nix: NixRunner;
    let file: string;
    let state: string;

    const cli = (...args: string[]): Promise<Run> => runCli(args, work, server?.origin ?? 'http://127.0.0.1:9');

    async function ok(...args: string[]): Promise<string> {
      const r = await cli(...args);
      expect(r.code, `flake-registry ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    }

    const sync = (...more: string[]) =>
      cli('sync', '--registry', 'global', '--to', file, '--state', state, '--max-age', '1h', ...more);

    /** Merges `a -> target`, signed by alice and approved by bob. */
    async function merge(target: string): Promise<void> {
      const id = (
        await ok('propose', 'set', 'a', target, '--registry', 'global', '--key', 'alice.sec', '--id-only')
      ).trim();
      const merged = JSON.parse(
        await ok('approve', id, '--registry', 'global', '--key', 'bob.sec', '--yes', '--json'),
      ) as { status: string };
      expect(merged.status).toBe('merged');
    }

    /** The head's file as the service serves it. */
    async function headFile(): Promise<string> {
      const res = await fetch(`${server?.origin ?? ''}/registries/global/flake-registry.json`);
      expect(res.status).toBe(200);
      return res.text();
    }

    /**
     * Waits until the log's checkpoint names the head (it follows a merge within about a
     * second), then syncs once: a sync before that would verify the version before.
     */
    async function syncToHead(expected: string): Promise<Run> {
      const origin = server?.origin ?? '';
      const page = await (await fetch(`${origin}/registries/global/versions?limit=1`)).json<{ latest: number }>();
      for (let i = 0; i < 40; i++) {
        const note = await (await fetch(`${origin}/registries/global/log/checkpoint`)).text();
        if (note.split('\n')[1] === String(page.latest)) break;
        await sleep(250);
      }
      const run = await sync();
      expect(run.code, run.stderr).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(expected);
      return run;
    }

    async function resolved(ref: string): Promise<string> {
      const r = await nix.run(['flake', 'metadata', '--json', ref]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { resolvedUrl: string }).resolvedUrl;
    }

    beforeAll(async () => {
      fx = buildFixture();
      work = mkdtempSync(join(tmpdir(), 'flake-registry-sync-nix-'));
      file = join(work, 'etc', 'global.json');
      state = join(work, 'state');
      for (const name of ['alice', 'bob']) await ok('keygen', '--name', name, '--out', `${name}.sec`);
      await ok('keygen', '--name', 'localhost', '--out', 'log.sec');
      const pubs = await Promise.all(['alice', 'bob'].map(async (n) => (await ok('pubkey', `${n}.sec`)).trim()));
      const logKey = readFileSync(join(work, 'log.sec'), 'utf8').trim();
      server = await startDevServer({
        root: REPO_ROOT,
        persistTo: join(work, 'server-state'),
        args: [
          '--var',
          `DEV_TRUSTED_KEYS:${pubs.join(' ')}`,
          '--var',
          `LOG_SIGNING_KEY:${logKey}`,
          '--log-level',
          'warn',
        ],
      });
      nix = nixRunner(join(work, 'nix'), file);
      await nix.init();
    });

    afterAll(async () => {
      await server?.stop();
      if (work) removeTree(work);
      if (fx) removeTree(fx.root);
    });

    it('writes FILE, which Nix reads as the registry', async () => {
      await merge(`git+file://${fx.repoA}`);
      const head = await headFile();
      const first = await syncToHead(head);
      expect(first.stderr).toContain('--trust');
      expect(readFileSync(file, 'utf8')).toBe(head);
      const list = await nix.run(['registry', 'list']);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toContain(`global flake:a git+file://${fx.repoA}`);
      expect(await resolved('a')).toBe(`git+file://${fx.repoA}`);
    });

    it('is silent when nothing is new, and Nix sees a merge once sync has verified it', async () => {
      const quiet = await sync();
      expect(quiet).toEqual({ code: 0, stdout: '', stderr: '' });
      await merge(`git+file://${fx.repoB}`);
      // Nix reads FILE, not the server: until sync runs, it still resolves to A.
      expect(await resolved('a')).toBe(`git+file://${fx.repoA}`);
      const head = await headFile();
      const updated = await syncToHead(head);
      expect(updated.stdout).toMatch(/\ba\b/);
      expect(await resolved('a')).toBe(`git+file://${fx.repoB}`);
    });

    it('fails as unreachable once the server is gone, leaving FILE and its state, and Nix still resolves', async () => {
      const before = readFileSync(file, 'utf8');
      const stateBefore = readdirSync(state).map((f) => [f, readFileSync(join(state, f), 'utf8')]);
      await server?.stop();
      server = undefined;
      const r = await cli(
        'sync',
        '--registry',
        'global',
        '--to',
        file,
        '--state',
        state,
        '--url',
        'http://127.0.0.1:9',
      );
      expect(r.code).toBe(1);
      expect(r.stderr).not.toContain('SECURITY ERROR');
      expect(readFileSync(file, 'utf8')).toBe(before);
      expect(readdirSync(state).map((f) => [f, readFileSync(join(state, f), 'utf8')])).toEqual(stateBefore);
      expect(await resolved('a')).toBe(`git+file://${fx.repoB}`);
    });
  },
);
