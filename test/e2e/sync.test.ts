import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../scripts/build-cli.js';
import { freePort, startDevServer, type DevServer } from '../../scripts/dev-server.js';

const root = join(import.meta.dirname, '..', '..');
const BIN = join(root, 'scripts', 'cli', 'bin.mjs');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One machine following the registry: its FILE and its state directory. */
interface Machine {
  readonly file: string;
  readonly state: string;
}

const sha256 = (bytes: string | Buffer): string => createHash('sha256').update(bytes).digest('hex');

/**
 * `flake-registry sync` against a local server started the way `npm start` starts it, with a
 * log key: what a machine's timer sees on a first sync, with nothing new, after a merge, and
 * when what it is given is not what it pinned or the server is gone.
 */
describe('flake-registry sync against a local server', { timeout: 120_000 }, () => {
  let work: string;
  let server: DevServer;
  let env: Record<string, string | undefined>;
  let oneFile: string;
  let machines = 0;

  function run(bin: string, args: readonly string[]): Promise<Run> {
    return new Promise((resolve) => {
      const child = execFile(process.execPath, [bin, ...args], { cwd: work, env }, (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
      child.stdin?.end();
    });
  }
  const cli = (...args: string[]) => run(BIN, args);

  async function ok(...args: string[]): Promise<string> {
    const r = await cli(...args);
    expect(r.stderr, `flake-registry ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  }

  function machine(): Machine {
    const dir = join(work, `machine-${++machines}`);
    return { file: join(dir, 'etc', 'nix', 'registry.json'), state: join(dir, 'state') };
  }

  const sync = (m: Machine, ...more: string[]) =>
    cli('sync', '--registry', 'global', '--to', m.file, '--state', m.state, ...more);

  /** Every byte of FILE and of the state directory (a temporary file left behind shows too). */
  function snapshot(m: Machine): Record<string, string> {
    const files: Record<string, string> = {};
    for (const dir of [join(m.file, '..'), m.state]) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) files[join(dir, name)] = readFileSync(join(dir, name), 'base64');
    }
    return files;
  }

  async function served(path: string): Promise<string> {
    const res = await fetch(`${server.origin}${path}`);
    expect(res.status, path).toBe(200);
    return res.text();
  }

  /** Merges `id -> url` into global: alice proposes, bob approves. */
  async function merge(id: string, url: string): Promise<void> {
    const proposal = (
      await ok('propose', 'set', id, url, '--registry', 'global', '--key', 'alice.sec', '--id-only')
    ).trim();
    const merged = JSON.parse(
      await ok('approve', proposal, '--registry', 'global', '--key', 'bob.sec', '--yes', '--json'),
    ) as { status: string };
    expect(merged.status).toBe('merged');
  }

  /** Syncs until FILE is the head's file: the checkpoint follows a merge within about a second. */
  async function syncUntilHead(m: Machine, ...more: string[]): Promise<Run> {
    const head = await served('/registries/global/flake-registry.json');
    let last: Run | undefined;
    for (let i = 0; i < 40; i++) {
      last = await sync(m, ...more);
      expect(last.code, last.stderr).toBe(0);
      if (existsSync(m.file) && readFileSync(m.file, 'utf8') === head) return last;
      await sleep(250);
    }
    throw new Error(`sync never wrote the head: last run said ${JSON.stringify(last)}`);
  }

  /** A refusal: exit 3, SECURITY ERROR first, evidence indented below, nothing changed. */
  async function refused(m: Machine, reason: RegExp, ...more: string[]): Promise<Run> {
    const before = snapshot(m);
    const r = await sync(m, ...more);
    expect(r.code, r.stderr).toBe(3);
    const [first = '', ...evidence] = r.stderr.trimEnd().split('\n');
    expect(first).toMatch(/^SECURITY ERROR: registry 'global': /);
    expect(r.stderr).toMatch(reason);
    expect(evidence.length).toBeGreaterThan(0);
    for (const line of evidence) expect(line).toMatch(/^ {2}\S/);
    expect(snapshot(m), 'FILE and the state byte-identical').toEqual(before);
    return r;
  }

  let anchor = '';
  let vkey = '';
  let kept: Machine;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'flake-registry-sync-e2e-'));
    env = { ...process.env, FLAKE_REGISTRY_URL: undefined, XDG_STATE_HOME: join(work, 'xdg-state') };
    for (const name of ['alice', 'bob']) await ok('keygen', '--name', name, '--out', `${name}.sec`);
    await ok('keygen', '--name', 'localhost', '--out', 'log.sec');
    await ok('keygen', '--name', 'localhost', '--out', 'other-log.sec');
    const pubs = await Promise.all(['alice', 'bob'].map(async (n) => (await ok('pubkey', `${n}.sec`)).trim()));
    vkey = (await ok('pubkey', '--vkey', 'log.sec')).trim();
    const logKey = readFileSync(join(work, 'log.sec'), 'utf8').trim();
    oneFile = (await buildCli(join(work, 'build', 'flake-registry.mjs'))).outfile;
    server = await startDevServer({
      root,
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
    env = { ...env, FLAKE_REGISTRY_URL: server.origin };
    anchor = sha256(await served('/registries/global/versions/1'));
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("first sync: FILE is the head's exact bytes, and it says how to pin what it trusted", async () => {
    kept = machine();
    const r = await syncUntilHead(kept);
    const head = await served('/registries/global/versions/1/flake-registry.json');
    expect(readFileSync(kept.file, 'utf8')).toBe(head);
    expect(statSync(kept.file).mode & 0o777).toBe(0o644);
    expect(statSync(join(kept.file, '..')).mode & 0o777).toBe(0o755);
    expect(r.stdout).toBe(`global: version 1 (sha256 ${sha256(head)}) written to ${kept.file}\n`);
    expect(r.stderr).toBe(
      `flake-registry: first sync of 'global': trusted version 1's record sha256 ${anchor} and the log key ${vkey} ` +
        `as ${server.origin} gave them; check them out of band and pin with --trust ${anchor} --log-key ${vkey}\n`,
    );
    const state = JSON.parse(readFileSync(join(kept.state, 'global.json'), 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({
      format: 1,
      registry: 'global',
      anchor,
      logKey: vkey,
      version: 1,
      record: anchor,
      file: sha256(head),
      policySince: 1,
      checkpoint: { size: 1 },
    });
    expect(Object.keys(state).sort()).toEqual(
      [
        'anchor',
        'checkpoint',
        'file',
        'format',
        'logKey',
        'policy',
        'policySince',
        'record',
        'registry',
        'version',
      ].sort(),
    );
    expect(statSync(join(kept.state, 'global.json')).mode & 0o777).toBe(0o600);
  });

  it('works from the one-file command, pinned, and says nothing of trust then', async () => {
    const m = machine();
    const r = await run(oneFile, [
      'sync',
      '--registry',
      'global',
      '--to',
      m.file,
      '--state',
      m.state,
      '--trust',
      anchor,
      '--log-key',
      vkey,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(m.file, 'utf8')).toBe(readFileSync(kept.file, 'utf8'));
  });

  it('with nothing new, says nothing and changes nothing', async () => {
    const before = snapshot(kept);
    expect(await sync(kept)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await sync(kept, '--trust', anchor, '--log-key', vkey)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(snapshot(kept)).toEqual(before);
  });

  it('writes FILE again when it was edited or removed, and says so', async () => {
    const good = readFileSync(kept.file, 'utf8');
    writeFileSync(kept.file, '{"version":2,"flakes":[]}\n');
    const r = await sync(kept);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/was changed since the last sync: version 1 of 'global' written again/);
    expect(readFileSync(kept.file, 'utf8')).toBe(good);
    rmSync(kept.file);
    expect((await sync(kept)).stdout).toMatch(/was missing: version 1 of 'global' written again/);
    expect(readFileSync(kept.file, 'utf8')).toBe(good);
  });

  let behind: Machine;

  it('after a merge: a line per entry changed, the version line, and FILE is the new head', async () => {
    behind = machine();
    mkdirSync(behind.state, { recursive: true });
    mkdirSync(join(behind.file, '..'), { recursive: true });
    for (const name of readdirSync(kept.state)) {
      writeFileSync(join(behind.state, name), readFileSync(join(kept.state, name)));
    }
    writeFileSync(behind.file, readFileSync(kept.file));

    await merge('sync-e2e', 'github:example/sync-e2e');
    const r = await syncUntilHead(kept);
    const head = await served('/registries/global/versions/2/flake-registry.json');
    expect(readFileSync(kept.file, 'utf8')).toBe(head);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      `+ flake:sync-e2e -> github:example/sync-e2e\nglobal: version 1 -> 2 (sha256 ${sha256(head)})\n`,
    );
    expect(JSON.parse(readFileSync(join(kept.state, 'global.json'), 'utf8'))).toMatchObject({
      version: 2,
      record: sha256(await served('/registries/global/versions/2')),
      checkpoint: { size: 2 },
    });
  });

  it('--json: one object on stdout, updated or not, and the error shape', async () => {
    const r = await sync(behind, '--json');
    expect(r.code, r.stderr).toBe(0);
    const head = await served('/registries/global/versions/2/flake-registry.json');
    const out = JSON.parse(r.stdout) as { checkpoint: { root: string; time: string } };
    expect(out).toEqual({
      registry: 'global',
      updated: true,
      from: 1,
      version: 2,
      sha256: sha256(head),
      anchor,
      checkpoint: { size: 2, root: out.checkpoint.root, time: out.checkpoint.time },
      changes: ['+ flake:sync-e2e -> github:example/sync-e2e'],
    });
    expect(out.checkpoint.root).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Math.abs(Date.parse(out.checkpoint.time) - Date.now())).toBeLessThan(3_600_000);
    const quiet = await sync(behind, '--json');
    expect(JSON.parse(quiet.stdout)).toMatchObject({ updated: false, from: 2, version: 2, changes: [] });
    expect(quiet.stderr).toBe('');

    const wrong = await sync(behind, '--json', '--trust', 'f'.repeat(64));
    expect(wrong.code).toBe(3);
    expect(JSON.parse(wrong.stdout)).toEqual({
      error: {
        kind: 'security',
        code: 'anchor-mismatch',
        message: "registry 'global': anchor-mismatch: --trust is not the anchor this machine verified from",
        evidence: [
          `expected (kept in ${join(behind.state, 'global.json')}): version 1's record sha256 ${anchor}`,
          `given: --trust ${'f'.repeat(64)}`,
        ],
      },
    });
    const port = await freePort();
    const gone = await sync(behind, '--json', '--url', `http://127.0.0.1:${port}`);
    expect(gone.code).toBe(1);
    expect(JSON.parse(gone.stdout)).toMatchObject({ error: { kind: 'unreachable', evidence: [] } });
  });

  it('--trust that is not version 1: SECURITY ERROR on a first sync and against the state', async () => {
    const fresh = machine();
    mkdirSync(join(fresh.file, '..'), { recursive: true });
    writeFileSync(fresh.file, 'what Nix read before\n');
    const r = await refused(fresh, /anchor-mismatch/, '--trust', 'a'.repeat(64));
    expect(r.stderr).toContain(`served: ${server.origin}/registries/global/versions/1 with sha256 ${anchor}`);
    expect(readFileSync(fresh.file, 'utf8')).toBe('what Nix read before\n');
    expect(existsSync(fresh.state)).toBe(false);
    await refused(kept, /anchor-mismatch/, '--trust', 'a'.repeat(64));
  });

  it('--log-key that is not the log key: SECURITY ERROR on a first sync and against the state', async () => {
    const other = (await ok('pubkey', '--vkey', 'other-log.sec')).trim();
    const fresh = machine();
    await refused(fresh, /unknown-key|bad-signature/, '--log-key', other);
    expect(existsSync(fresh.file)).toBe(false);
    const r = await refused(kept, /log-key-mismatch/, '--log-key', other);
    expect(r.stderr).toContain(`  given: --log-key ${other}\n`);
  });

  it('a closed port: an ordinary failure, FILE and the state untouched', async () => {
    const before = snapshot(kept);
    const r = await sync(kept, '--url', `http://127.0.0.1:${await freePort()}`);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(
      /^flake-registry: cannot reach the service at http:\/\/127\.0\.0\.1:\d+: connection refused/,
    );
    expect(snapshot(kept)).toEqual(before);
  });

  it('FILE through a symbolic link: the file it points to is replaced, the link stays', async () => {
    const m = machine();
    const real = join(m.file, '..', '..', 'real', 'global.json');
    mkdirSync(join(real, '..'), { recursive: true });
    mkdirSync(join(m.file, '..'), { recursive: true });
    writeFileSync(real, 'what Nix read before\n');
    symlinkSync(join('..', 'real', 'global.json'), m.file);
    const r = await sync(m);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(m.file).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe(readFileSync(kept.file, 'utf8'));
    expect(readdirSync(join(real, '..'))).toEqual(['global.json']);

    // A link to a file not made yet: made where the link points.
    const dangling = machine();
    mkdirSync(join(dangling.file, '..'), { recursive: true });
    symlinkSync('made-by-sync.json', dangling.file);
    expect((await sync(dangling)).code).toBe(0);
    expect(lstatSync(dangling.file).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dangling.file, '..', 'made-by-sync.json'), 'utf8')).toBe(readFileSync(kept.file, 'utf8'));
  });

  it('FILE that is a directory: refused before anything is asked or written', async () => {
    const m = machine();
    mkdirSync(m.file, { recursive: true });
    const r = await sync(m);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `flake-registry: ${m.file} is a directory: give a file's path\n`,
    });
    expect(existsSync(m.state)).toBe(false);
  });

  it('a state that cannot be written: FILE left as it was, and nothing left behind', async () => {
    const m = machine();
    mkdirSync(join(m.file, '..'), { recursive: true });
    writeFileSync(m.file, 'what Nix read before\n');
    // No process can make a file in /proc/self, root included.
    const r = await cli('sync', '--registry', 'global', '--to', m.file, '--state', '/proc/self');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^flake-registry: cannot lock \/proc\/self\/global\.json\.lock: /);
    expect(readFileSync(m.file, 'utf8')).toBe('what Nix read before\n');
    expect(readdirSync(join(m.file, '..'))).toEqual(['registry.json']);
  });

  it('FILE that is the state file, and an empty --to or --state: usage errors, nothing written', async () => {
    const m = machine();
    const same = await sync({ file: join(m.state, 'global.json'), state: m.state });
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(
      /^flake-registry: --to .*global\.json is the sync state's own file: give FILE a path outside /,
    );
    const emptyState = await cli('sync', '--registry', 'global', '--to', m.file, '--state', '');
    expect(emptyState.code).toBe(2);
    expect(emptyState.stderr).toMatch(/--state is empty/);
    const emptyTo = await cli('sync', '--registry', 'global', '--to', '', '--state', m.state);
    expect(emptyTo.code).toBe(2);
    expect(emptyTo.stderr).toMatch(/missing --to|--to is empty/);
    expect(existsSync(m.state) || existsSync(m.file)).toBe(false);
  });

  it("one run at a time per state: a second waits for the first, and a killed run's lock is taken over", async () => {
    const m = machine();
    mkdirSync(m.state, { recursive: true });
    const lock = join(m.state, 'global.json.lock');
    // A lock held by a live process (this test's): the sync waits, and writes nothing meanwhile.
    writeFileSync(lock, `${process.pid}\n`);
    const waiting = sync(m);
    await sleep(1500);
    expect(existsSync(m.file)).toBe(false);
    rmSync(lock);
    const r = await waiting;
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(m.file, 'utf8')).toBe(readFileSync(kept.file, 'utf8'));
    expect(existsSync(lock), 'the lock is released').toBe(false);
    // A lock left by a process that is gone.
    const dead = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(lock, `${dead}\n`);
    rmSync(m.file);
    const after = await sync(m);
    expect(after.code, after.stderr).toBe(0);
    expect(existsSync(m.file)).toBe(true);
    expect(existsSync(lock)).toBe(false);
  });

  it('removes the temporary files a killed run left, once they are old, and only its own', async () => {
    const m = machine();
    expect((await sync(m)).code).toBe(0);
    const etc = join(m.file, '..');
    const stale = [join(etc, '.registry.json.0123456789ab.tmp'), join(m.state, '.global.json.ba9876543210.tmp')];
    const young = join(etc, '.registry.json.00000000ffff.tmp');
    const other = join(etc, '.something-else.0123456789ab.tmp');
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const path of [...stale, young, other]) writeFileSync(path, 'half a file');
    for (const path of [...stale, other]) utimesSync(path, hourAgo, hourAgo);
    rmSync(m.file); // so that FILE is written again, and its temporary files looked at
    const r = await sync(m);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(etc).sort()).toEqual([
      '.registry.json.00000000ffff.tmp',
      '.something-else.0123456789ab.tmp',
      'registry.json',
    ]);
    // The state's own are removed when the state is written next: after a newer cosignature or a merge.
    expect(existsSync(stale[1] as string)).toBe(true);
  });

  it('a state edited by hand: SECURITY ERROR naming what the log says, nothing changed', async () => {
    for (const [field, value] of [
      ['anchor', 'b'.repeat(64)],
      ['record', 'c'.repeat(64)],
      ['file', 'd'.repeat(64)],
    ] as const) {
      const m = machine();
      expect((await sync(m)).code).toBe(0);
      const path = join(m.state, 'global.json');
      const state = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      const was = state[field] as string;
      writeFileSync(path, `${JSON.stringify({ ...state, [field]: value }, null, 2)}\n`);
      const r = await refused(
        m,
        /state-mismatch: the sync state's .* is not the one its log names: the state was changed/,
      );
      expect(r.stderr).toContain(`  expected (the log, consistent with the checkpoint kept): `);
      expect(r.stderr).toContain(` ${was}\n`);
      expect(r.stderr).toContain(`  kept in ${path}: `);
    }
  });

  it('a service without a log key: an ordinary failure that names what is missing', async () => {
    const bare = await startDevServer({
      root,
      persistTo: join(work, 'bare-state'),
      args: ['--log-level', 'warn'],
    });
    try {
      const m = machine();
      const r = await sync(m, '--url', bare.origin);
      expect(r).toMatchObject({ code: 1, stdout: '' });
      expect(r.stderr).toBe(
        `flake-registry: registry 'global' has no transparency log on ${bare.origin} (no log key is configured): sync needs the registry's transparency log\n`,
      );
      expect(existsSync(m.file) || existsSync(m.state)).toBe(false);
    } finally {
      await bare.stop();
    }
  });

  it('the server stopped: an ordinary failure, FILE left for Nix to read offline', async () => {
    const before = snapshot(behind);
    await server.stop();
    const r = await sync(behind);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^flake-registry: cannot reach the service at /);
    expect(r.stderr).not.toMatch(/SECURITY ERROR/);
    expect(snapshot(behind)).toEqual(before);
  });
});
