import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startDevServer, type DevServer } from '../../scripts/dev-server.js';
import { parseSecretKey, type SecretKey } from '../../src/crypto/keys.js';
import { Problem, problemBody } from '../../src/http/problem.js';
import { parseCheckpoint, signCheckpoint, type Checkpoint } from '../../src/log/checkpoint.js';
import { leafData, parseLeafData, type Leaf } from '../../src/log/leaf.js';
import { leafHash, MerkleTree } from '../../src/log/merkle.js';
import { followLog, readVersionLeaves } from '../../src/log/client.js';
import { LogError } from '../../src/log/errors.js';
import { logOrigin } from '../../src/log/origin.js';
import { formatVerifierKey, verifierKey } from '../../src/log/vkey.js';
import { bundlePath, formatBundle, parseBundle, tileBytes, tilePath } from '../../src/log/tiles.js';
import { cli as inProcess } from '../scripts/cli/helpers.js';
import {
  BASE64_ALPHABET,
  flipByte,
  startHostileProxy,
  substituteChar,
  type Answer,
  type HostileProxy,
} from '../support/hostile-proxy.js';

const root = join(import.meta.dirname, '..', '..');
const BIN = join(root, 'scripts', 'cli', 'bin.mjs');
const NAME = 'global';
const LOG_KEY_NAME = 'registry.test';
const HEX = '0123456789abcdef';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** What a client keeps between syncs: FILE's directory and the --state directory, each file's bytes. */
interface Client {
  readonly dir: string;
  readonly file: string;
  readonly state: string;
}

/** Every file under `dir`, by path relative to it, as base64 of its bytes: equal means byte-identical. */
function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = readFileSync(path).toString('base64');
    }
  };
  walk(dir);
  return out;
}

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/**
 * One character of a checkpoint note changed for another of its alphabet, so the note still
 * parses and only what it says changes: in the log's signature, in the timestamped
 * cosignature, in the root, in the size.
 */
const SIGNATURE_START = `\u2014 ${LOG_KEY_NAME} `;
const inSignature = (body: Buffer): Buffer => {
  const text = body.toString();
  const line = text.indexOf(SIGNATURE_START, text.indexOf('\n\n'));
  // Past the key id (its 4 bytes are the first 6 base64 characters), inside the signature.
  return Buffer.from(substituteChar(text, line + SIGNATURE_START.length + 20, BASE64_ALPHABET));
};
const inCosignature = (body: Buffer): Buffer => {
  const text = body.toString();
  return Buffer.from(
    substituteChar(text, text.lastIndexOf(SIGNATURE_START) + SIGNATURE_START.length + 40, BASE64_ALPHABET),
  );
};
const inRoot = (body: Buffer): Buffer => {
  const text = body.toString();
  return Buffer.from(substituteChar(text, text.indexOf('\n', text.indexOf('\n') + 1) + 1 + 5, BASE64_ALPHABET));
};
const inSize = (body: Buffer): Buffer => {
  const text = body.toString();
  return Buffer.from(substituteChar(text, text.indexOf('\n') + 1, '0123456789'));
};
/** One hex digit of the record hash in the last leaf of an entry bundle. */
const inLastLeaf = (body: Buffer): Buffer => {
  const text = body.toString('latin1');
  return Buffer.from(substituteChar(text, text.lastIndexOf('record ') + 'record '.length + 3, HEX), 'latin1');
};
/** One bit of the last hash of a hash tile. */
const inLastHash = (body: Buffer): Buffer => flipByte(body, body.length - 32 + 7);

/** GET through node:http, so that no client-side check stands between the test and the bytes. */
function rawGet(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpGet(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/**
 * `flake-registry sync` against a hostile server: a real local server with a log key and
 * maintainers, and between it and the client an HTTP proxy (test/support/hostile-proxy.ts)
 * that rolls back, flips bytes, forks the log with the log key itself, replays stale
 * checkpoints, or merely fails. Each attack starts from a client that verified a version
 * through the same proxy; each must end in exit status 3, a first stderr line starting
 * `SECURITY ERROR`, and FILE and the state directory byte-identical. Ordinary failures
 * (500, a connection cut mid-body, the server gone) must end in status 1, never 3, and leave
 * them alike; and after all of it a clean sync still succeeds.
 */
// Each step runs the bin as a new process (about a second each).
describe('sync against a hostile server', { timeout: 90_000 }, () => {
  let work: string;
  let server: DevServer;
  let proxy: HostileProxy;
  let env: Record<string, string | undefined>;
  let logKey: SecretKey;
  /** Another key of the log key's name: what an impostor signs with. */
  let otherKey: SecretKey;
  let vkey: string;
  let anchor: string;
  /** What the proxy recorded while the client synced version 2: the server's answers then. */
  let atVersion2: ReadonlyMap<string, Answer>;
  /** A client that verified version 2; the server has version 3 since. */
  let behind: Client;
  /** A client that verified version 3, the server's newest. */
  let current: Client;
  let clients = 0;

  function run(args: readonly string[], cwd = work): Promise<Run> {
    return new Promise((resolve) => {
      const child = execFile(process.execPath, [BIN, ...args], { cwd, env }, (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
      child.stdin?.end();
    });
  }

  async function ok(...args: string[]): Promise<string> {
    const r = await run(args);
    expect(r.stderr, `flake-registry ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  }

  const maintainer = (name: string) => ['--registry', NAME, '--key', `${name}.sec`, '--url', server.origin];

  /** A change proposed by alice and approved by bob: the next version. */
  async function merge(id: string, url: string): Promise<number> {
    const view = JSON.parse(
      await ok('propose', 'set', id, url, ...maintainer('alice'), '--message', `Add ${id}`, '--json'),
    ) as { id: string };
    const out = await ok('approve', view.id, ...maintainer('bob'), '--yes');
    const merged = /merged as version (\d+)/.exec(out);
    expect(merged, out).not.toBeNull();
    const version = Number(merged?.[1]);
    // A version is synced once the log's checkpoint names it, about a second after the merge.
    for (let i = 0; i < 100 && (await liveCheckpoint()).size < version; i++) await sleep(100);
    expect((await liveCheckpoint()).size).toBe(version);
    return version;
  }

  function newClient(): Client {
    const dir = join(work, `client-${++clients}`);
    const client = { dir, file: join(dir, 'etc', 'registry.json'), state: join(dir, 'state') };
    mkdirSync(join(dir, 'etc'), { recursive: true });
    mkdirSync(client.state, { recursive: true });
    return client;
  }

  /** A client that starts where `from` is: its FILE and state copied. */
  function copyOf(from: Client): Client {
    const client = newClient();
    cpSync(join(from.dir, 'etc'), join(client.dir, 'etc'), { recursive: true });
    cpSync(from.state, client.state, { recursive: true });
    return client;
  }

  function sync(client: Client, ...more: string[]): Promise<Run> {
    return run([
      'sync',
      '--registry',
      NAME,
      '--to',
      client.file,
      '--state',
      client.state,
      '--url',
      proxy.origin,
      ...more,
    ]);
  }

  /** The sync state a client keeps. */
  const stateOf = (client: Client) =>
    JSON.parse(readFileSync(join(client.state, `${NAME}.json`), 'utf8')) as {
      readonly version: number;
      readonly checkpoint: {
        readonly size: number;
        readonly root: string;
        readonly time: number;
        readonly note: string;
      };
    };

  /** FILE's directory and the state directory, every byte of every file (a temporary file left behind shows). */
  const kept = (client: Client) => ({ etc: filesOf(join(client.dir, 'etc')), state: filesOf(client.state) });

  /**
   * Syncs, and puts back FILE's directory and the state as they were if the sync changed them,
   * so that one sync that should have refused does not change where the next tests start.
   */
  async function attempt(client: Client, more: readonly string[]) {
    const before = kept(client);
    const r = await sync(client, ...more);
    const after = kept(client);
    if (!isDeepStrictEqual(before, after)) {
      for (const [dir, files] of [
        [join(client.dir, 'etc'), before.etc],
        [client.state, before.state],
      ] as const) {
        rmSync(dir, { recursive: true, force: true });
        for (const [path, bytes] of Object.entries(files)) {
          mkdirSync(dirname(join(dir, path)), { recursive: true });
          writeFileSync(join(dir, path), Buffer.from(bytes, 'base64'));
        }
        mkdirSync(dir, { recursive: true });
      }
    }
    return { r, before, after };
  }

  /** Syncs through the proxy as it is now and expects a refusal naming a security failure, changing nothing. */
  async function refused(client: Client, reason: RegExp, ...more: string[]): Promise<Run> {
    const { r, before, after } = await attempt(client, more);
    expect(after, 'FILE and the state directory byte-identical').toEqual(before);
    const [first = '', ...evidence] = r.stderr.split('\n');
    expect(first, `exit ${r.code}, stderr:\n${r.stderr}`).toMatch(/^SECURITY ERROR/);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr, 'the reason, on the line or the evidence below it').toMatch(reason);
    expect(
      evidence.some((line) => line.startsWith('  ')),
      `evidence lines below the first, indented:\n${r.stderr}`,
    ).toBe(true);
    return r;
  }

  /** Syncs and expects an ordinary failure: status 1, no SECURITY ERROR anywhere, nothing changed. */
  async function failed(client: Client, ...more: string[]): Promise<Run> {
    const { r, before, after } = await attempt(client, more);
    expect(after, 'FILE and the state directory byte-identical').toEqual(before);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/SECURITY ERROR/);
    expect(r.stderr).not.toBe('');
    return r;
  }

  /** The server's own answer to a path, straight from it (not through the proxy). */
  async function direct(path: string): Promise<Buffer> {
    const res = await fetch(`${server.origin}${path}`);
    expect(res.status, path).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  }

  const versionPath = (n: number) => `/registries/${NAME}/versions/${n}`;
  const filePath = (n: number) => `${versionPath(n)}/flake-registry.json`;
  const logPath = (rest: string) => `/registries/${NAME}/log/${rest}`;
  const CHECKPOINT = logPath('checkpoint');

  /** The served checkpoint's text (the note without its signatures), parsed. */
  async function liveCheckpoint(): Promise<Checkpoint> {
    const note = (await direct(CHECKPOINT)).toString();
    return parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1));
  }

  /** The log's leaves as the server serves them, for a log of fewer than 256 versions. */
  async function liveLeaves(size: number): Promise<Leaf[]> {
    const bundle = await direct(logPath(bundlePath({ index: 0, width: size })));
    return parseBundle(bundle, size).map((entry) => parseLeafData(entry));
  }

  /**
   * Another history, made with the log key itself: the leaves given, their tiles and entry
   * bundle, and a checkpoint of them signed and cosigned at `now`. Answered by the proxy in
   * place of the server's log.
   */
  async function serveLog(leaves: readonly Leaf[], now = Date.now()): Promise<() => void> {
    const data = leaves.map((leaf) => leafData(leaf));
    const tree = MerkleTree.fromLeafHashes(data.map((d) => leafHash(d)));
    const size = leaves.length;
    const note = await signCheckpoint(
      { origin: logOrigin(LOG_KEY_NAME, NAME), size, root: tree.root(), extensions: [] },
      logKey,
      now,
    );
    const removers = [
      proxy.on(CHECKPOINT, { kind: 'replace', body: note, headers: { 'content-type': 'text/plain; charset=utf-8' } }),
      proxy.on(logPath(tilePath({ level: 0, index: 0, width: size })), {
        kind: 'replace',
        body: Buffer.from(tileBytes(tree, { level: 0, index: 0, width: size })),
        headers: { 'content-type': 'application/octet-stream' },
      }),
      proxy.on(logPath(bundlePath({ index: 0, width: size })), {
        kind: 'replace',
        body: Buffer.from(formatBundle(data)),
        headers: { 'content-type': 'application/octet-stream' },
      }),
    ];
    return () => removers.forEach((remove) => remove());
  }

  /** The record of version n with one hex digit of its first hash changed: valid JSON, another hash. */
  async function forgedRecord(n: number): Promise<Buffer> {
    const text = (await direct(versionPath(n))).toString();
    const at = /[0-9a-f]{64}/.exec(text)?.index;
    if (at === undefined) throw new Error(`version ${n}'s record holds no hash`);
    return Buffer.from(substituteChar(text, at + 10, HEX));
  }

  /** The server's current checkpoint, signed again by a key (the log's) at another time, or for another origin. */
  async function resigned(time: number, origin?: string, key: SecretKey = logKey): Promise<string> {
    const checkpoint = await liveCheckpoint();
    const note = await signCheckpoint({ ...checkpoint, origin: origin ?? checkpoint.origin }, key, time);
    proxy.on(CHECKPOINT, { kind: 'replace', body: note, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    return note;
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'flake-registry-sync-hostile-'));
    env = {
      ...process.env,
      FLAKE_REGISTRY_URL: undefined,
      // Never the user's own state directory, whatever a sync defaults to.
      XDG_STATE_HOME: join(work, 'xdg-state'),
      HOME: work,
    };
    for (const name of ['alice', 'bob']) await ok('keygen', '--name', name, '--out', `${name}.sec`);
    await ok('keygen', '--name', LOG_KEY_NAME, '--out', 'log.sec');
    const logSecret = readFileSync(join(work, 'log.sec'), 'utf8').trim();
    logKey = await parseSecretKey(logSecret);
    await ok('keygen', '--name', LOG_KEY_NAME, '--out', 'other-log.sec');
    otherKey = await parseSecretKey(readFileSync(join(work, 'other-log.sec'), 'utf8').trim());
    // The log's vkey as docs/log.md defines it (`flake-registry pubkey --vkey` prints the same).
    vkey = formatVerifierKey(verifierKey(logKey.publicKey));
    expect(vkey).toMatch(new RegExp(`^${LOG_KEY_NAME.replace('.', '\\.')}\\+[0-9a-f]{8}\\+`));

    const pubs = await Promise.all(['alice', 'bob'].map(async (n) => (await ok('pubkey', `${n}.sec`)).trim()));
    const trusted = await inProcess(['trust-local', ...pubs], { cwd: work, root: work });
    expect(trusted.code, trusted.stderr).toBe(0);
    const devVars = readFileSync(join(work, '.dev.vars'), 'utf8');
    const value = /^DEV_TRUSTED_KEYS="(.*)"$/m.exec(devVars)?.[1] ?? '';
    server = await startDevServer({
      root,
      persistTo: join(work, 'server-state'),
      args: ['--var', `DEV_TRUSTED_KEYS:${value}`, '--var', `LOG_SIGNING_KEY:${logSecret}`, '--log-level', 'warn'],
    });
    proxy = await startHostileProxy(server.origin);
    expect((await direct(logPath('key'))).toString()).toBe(`${vkey}\n`);
    anchor = sha256(await direct(versionPath(1)));

    expect(await merge('hostile-one', 'github:example/one')).toBe(2);
  });

  afterEach(() => {
    proxy?.reset();
    proxy?.clearLog();
  });

  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /**
   * The attacks staged below, checked first with the log client of src/log/client.ts reading
   * through the proxy: each must fail for the reason it stands for, and the honest log and a
   * forgery made with the log key must pass, or a refusal by sync would prove nothing.
   * Here the server has versions 1 and 2.
   */
  describe('the staged attacks, as the log client sees them', () => {
    const through = async (path: string): Promise<Uint8Array> => {
      const res = await rawGet(`${proxy.origin}${path}`);
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      return new Uint8Array(res.body);
    };

    /** Follows the log through the proxy, as a client that kept `kept`, and reads versions [from, size]. */
    async function follow(kept?: { size: number; root: Uint8Array }, from = 1): Promise<Leaf[]> {
      const note = await through(CHECKPOINT);
      const log = await followLog(note, {
        key: vkey,
        origin: logOrigin(LOG_KEY_NAME, NAME),
        now: Date.now(),
        maxAgeMs: 24 * 3600_000,
        ...(kept ? { kept } : {}),
        fetchTile: (path) => through(logPath(path)),
      });
      return readVersionLeaves(log.reader, NAME, from, log.checkpoint.size);
    }

    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => 'accepted',
        (error: unknown) => (error instanceof LogError ? error.code : `not a LogError: ${String(error)}`),
      );

    it('passes the honest log, and the proxy passes it byte for byte', async () => {
      const leaves = await follow();
      expect(leaves).toEqual(await liveLeaves(2));
      expect(leaves.map((l) => l.record)).toEqual([
        sha256(await direct(versionPath(1))),
        sha256(await direct(versionPath(2))),
      ]);
      expect(Buffer.from(await through(CHECKPOINT)).equals(await direct(CHECKPOINT))).toBe(true);
    });

    it('fails each changed byte for its own reason', async () => {
      const cases: [string, (b: Buffer) => Buffer, string][] = [
        [CHECKPOINT, inSignature, 'bad-signature'],
        [CHECKPOINT, inCosignature, 'bad-signature'],
        [CHECKPOINT, inRoot, 'bad-signature'],
        [CHECKPOINT, inSize, 'bad-signature'],
        [logPath(tilePath({ level: 0, index: 0, width: 2 })), inLastHash, 'tile-mismatch'],
        [logPath(bundlePath({ index: 0, width: 2 })), inLastLeaf, 'tile-mismatch'],
      ];
      for (const [path, mutate, expected] of cases) {
        const remove = proxy.on(path, { kind: 'mutate', mutate });
        expect(await code(follow()), `${path} changed by ${mutate.name}`).toBe(expected);
        remove();
      }
      expect(await code(follow())).toBe('accepted');
    });

    it('fails checkpoints signed again: stale, future, another origin, another key', async () => {
      await resigned(Date.now() - 25 * 3600_000);
      expect(await code(follow())).toBe('stale');
      await resigned(Date.now() + 3600_000);
      expect(await code(follow())).toBe('future');
      await resigned(Date.now(), logOrigin(LOG_KEY_NAME, 'other'));
      expect(await code(follow())).toBe('wrong-origin');
      await resigned(Date.now(), undefined, otherKey);
      expect(await code(follow())).toBe('unknown-key');
      await resigned(Date.now());
      expect(await code(follow())).toBe('accepted');
    });

    it('passes a forgery made with the log key, unless the client kept the true tree', async () => {
      const [one, two] = await liveLeaves(2);
      if (!one || !two) throw new Error('the log does not have 2 leaves');
      const honest = await liveCheckpoint();
      await serveLog([one, { ...two, record: 'f'.repeat(64) }]);
      expect(await code(follow())).toBe('accepted');
      expect(await code(follow({ size: 2, root: honest.root }))).toBe('inconsistent');
      proxy.reset();
      await serveLog([one, two, { ...two, version: 3 }]);
      expect(await code(follow({ size: 2, root: honest.root }, 3))).toBe('accepted');
      proxy.reset();
      await serveLog([one, { ...two, record: 'f'.repeat(64) }, { ...two, version: 3 }]);
      expect(await code(follow({ size: 2, root: honest.root }, 3))).toBe('inconsistent');
    });
  });

  describe('sync', () => {
    beforeAll(async () => {
      behind = newClient();
      const first = await sync(behind, '--trust', anchor, '--log-key', vkey);
      expect(first.code, first.stderr).toBe(0);
      expect(readFileSync(behind.file).equals(await direct(filePath(2)))).toBe(true);
      expect(proxy.recorded(CHECKPOINT)).toBeDefined();
      atVersion2 = proxy.snapshot();

      expect(await merge('hostile-two', 'github:example/two')).toBe(3);
      current = copyOf(behind);
      const second = await sync(current);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(new RegExp(`^${NAME}: version 2 -> 3 \\(sha256 `, 'm'));
      expect(readFileSync(current.file).equals(await direct(filePath(3)))).toBe(true);
    });

    /** The attacked path was asked for and answered: the refusal is about it, not something else. */
    const asked = (path: string) => expect(proxy.requests, `the client asked for ${path}`).toContain(`GET ${path}`);

    describe('rollback', () => {
      it('refuses the older checkpoint and versions the server gave before the merge', async () => {
        const checkpoint = (proxy.recorded(CHECKPOINT)?.body ?? Buffer.alloc(0)).toString();
        expect(atVersion2.get(CHECKPOINT)?.body.toString()).not.toBe(checkpoint);
        proxy.replay(atVersion2);
        await refused(current, /rollback/i);
        asked(CHECKPOINT);
      });

      it('refuses an old checkpoint alone, the rest of the server current', async () => {
        const old = atVersion2.get(CHECKPOINT);
        if (!old) throw new Error('no checkpoint was recorded at version 2');
        proxy.on(CHECKPOINT, { kind: 'answer', answer: old });
        await refused(current, /rollback/i);
      });
    });

    describe('one byte changed', () => {
      it("in the new version's file", async () => {
        proxy.on(filePath(3), {
          kind: 'mutate',
          mutate: (body) => {
            const text = body.toString();
            return Buffer.from(substituteChar(text, text.indexOf('github:') + 'github:'.length, LETTERS));
          },
        });
        await refused(behind, /sha256|hash|file/i);
        asked(filePath(3));
      });

      it("in the new version's file, not even valid JSON any more", async () => {
        proxy.on(filePath(3), { kind: 'mutate', mutate: (body) => flipByte(body, 0, 0x02) });
        await refused(behind, /sha256|hash|file/i);
      });

      it("in the new version's record", async () => {
        proxy.on(versionPath(3), { kind: 'replace', body: await forgedRecord(3) });
        await refused(behind, /sha256|hash|record/i);
        asked(versionPath(3));
      });

      it('in the signature of the checkpoint', async () => {
        proxy.on(CHECKPOINT, { kind: 'mutate', mutate: inSignature });
        await refused(behind, /signature/i);
        asked(CHECKPOINT);
      });

      it('in the timestamped cosignature of the checkpoint', async () => {
        proxy.on(CHECKPOINT, { kind: 'mutate', mutate: inCosignature });
        await refused(behind, /signature/i);
      });

      it("in the checkpoint's root", async () => {
        proxy.on(CHECKPOINT, { kind: 'mutate', mutate: inRoot });
        await refused(behind, /signature/i);
      });

      it("in the checkpoint's size", async () => {
        proxy.on(CHECKPOINT, { kind: 'mutate', mutate: inSize });
        await refused(behind, /signature/i);
      });

      it('in a hash tile of the log', async () => {
        const tile = logPath(tilePath({ level: 0, index: 0, width: 3 }));
        proxy.on(tile, { kind: 'mutate', mutate: inLastHash });
        await refused(behind, /tile/i);
        asked(tile);
      });

      it("in the log's entry bundle, inside the new version's leaf", async () => {
        const bundle = logPath(bundlePath({ index: 0, width: 3 }));
        proxy.on(bundle, { kind: 'mutate', mutate: inLastLeaf });
        await refused(behind, /tile|bundle|leaf/i);
        asked(bundle);
      });

      it("in the log's entry bundle, inside a length prefix", async () => {
        const bundle = logPath(bundlePath({ index: 0, width: 3 }));
        proxy.on(bundle, { kind: 'mutate', mutate: (body) => flipByte(body, 1) });
        await refused(behind, /tile|bundle|leaf/i);
      });
    });

    describe('a forked history, signed with the log key itself', () => {
      it('another checkpoint of the same size, another record for the version verified', async () => {
        const leaves = await liveLeaves(3);
        const record = await forgedRecord(3);
        const [one, two, three] = leaves;
        if (!one || !two || !three) throw new Error('the log does not have 3 leaves');
        const stop = await serveLog([one, two, { ...three, record: sha256(record) }]);
        proxy.on(versionPath(3), { kind: 'replace', body: record });
        await refused(current, /fork|inconsistent/i);
        asked(CHECKPOINT);
        stop();
      });

      it('a larger tree that does not extend the one verified', async () => {
        const [one, two, three] = await liveLeaves(3);
        if (!one || !two || !three) throw new Error('the log does not have 3 leaves');
        const record = await forgedRecord(3);
        await serveLog([one, two, { ...three, record: sha256(record) }, { ...three, version: 4 }]);
        proxy.on(versionPath(3), { kind: 'replace', body: record });
        await refused(current, /fork|inconsistent/i);
      });

      it('a log extended by a version the maintainers never signed', async () => {
        const [one, two, three] = await liveLeaves(3);
        if (!one || !two || !three) throw new Error('the log does not have 3 leaves');
        // Consistent with what the client verified (versions 1 and 2), so the log alone cannot tell.
        const record = await forgedRecord(3);
        await serveLog([one, two, { ...three, record: sha256(record) }]);
        proxy.on(versionPath(3), { kind: 'replace', body: record });
        await refused(behind, /./);
        asked(versionPath(3));
      });

      it('a record for the version verified that differs from the one verified, the log honest', async () => {
        proxy.on(versionPath(2), { kind: 'replace', body: await forgedRecord(2) });
        await refused(behind, /fork|sha256|hash|record/i);
        asked(versionPath(2));
      });
    });

    describe('a stale or foreign checkpoint', () => {
      it('refuses one cosigned longer ago than the default --max-age of 24 hours', async () => {
        await resigned(Date.now() - 25 * 3600_000);
        await refused(behind, /stale|old|age/i);
      });

      it('refuses one cosigned an hour ahead of the clock', async () => {
        await resigned(Date.now() + 3600_000);
        await refused(behind, /future|ahead/i);
      });

      it('refuses a checkpoint recorded earlier, replayed after --max-age passed', async () => {
        const recorded = proxy.recorded(CHECKPOINT);
        if (!recorded) throw new Error('no checkpoint recorded');
        const cosigned = (await direct(CHECKPOINT)).toString();
        expect(recorded.body.toString()).toBe(cosigned);
        // The checkpoint of version 3 was cosigned when it merged, seconds ago: make sure 2 s have passed.
        await sleep(2_100);
        proxy.on(CHECKPOINT, { kind: 'answer', answer: recorded });
        await refused(behind, /stale|old|age/i, '--max-age', '2s');
      });

      it('takes a cosignature older than the one kept for the same tree (a cache), and keeps the newer', async () => {
        const client = copyOf(current);
        const before = stateOf(client).checkpoint;
        await resigned((before.time - 60) * 1000);
        expect(await sync(client)).toEqual({ code: 0, stdout: '', stderr: '' });
        expect(stateOf(client).checkpoint, 'the kept cosignature, not the older one').toEqual(before);
        proxy.reset();
        const newer = await resigned((before.time + 30) * 1000);
        expect(await sync(client)).toEqual({ code: 0, stdout: '', stderr: '' });
        const after = stateOf(client).checkpoint;
        expect(after.time, 'a newer cosignature of the same tree is kept').toBe(before.time + 30);
        expect(after.note).toBe(newer);
        expect({ ...after, time: 0, note: '' }).toEqual({ ...before, time: 0, note: '' });
      });

      it('refuses a larger tree cosigned before the smaller one it kept', async () => {
        const kept = stateOf(behind).checkpoint;
        expect((await liveCheckpoint()).size).toBeGreaterThan(kept.size);
        await resigned((kept.time - 60) * 1000);
        const r = await refused(behind, /stale: its checkpoint of size 3 was cosigned before the one kept of size 2/);
        expect(r.stderr).toContain(`a checkpoint cosigned at ${new Date(kept.time * 1000).toISOString()} or later`);
      });

      it('stops reading a checkpoint, a key or a tile far larger than the service ever sends', async () => {
        proxy.on(CHECKPOINT, { kind: 'replace', body: Buffer.alloc(1024 * 1024, 0x61) });
        const big = await failed(behind);
        expect(big.stderr).toMatch(/checkpoint answered with more than 64 KiB: not a flake-registry-service answer/);
        proxy.reset();
        proxy.on(/\/log\/tile\//, { kind: 'replace', body: Buffer.alloc(512 * 1024, 0x61) });
        expect((await failed(behind)).stderr).toMatch(/\/log\/tile\/\S+ answered with more than \d+ KiB/);
        proxy.reset();
        const fresh = newClient();
        proxy.on(logPath('key'), { kind: 'replace', body: Buffer.alloc(64 * 1024, 0x61) });
        expect((await failed(fresh)).stderr).toMatch(/\/log\/key answered with more than 1 KiB/);
      });

      it("refuses another registry's checkpoint signed by the same key", async () => {
        await resigned(Date.now(), logOrigin(LOG_KEY_NAME, 'other'));
        await refused(behind, /origin/i);
      });

      it('refuses a checkpoint signed by another key of the same name, and its vkey served', async () => {
        const note = await signCheckpoint(await liveCheckpoint(), otherKey, Date.now());
        proxy.on(CHECKPOINT, { kind: 'replace', body: note });
        proxy.on(logPath('key'), { kind: 'replace', body: `${formatVerifierKey(verifierKey(otherKey.publicKey))}\n` });
        await refused(behind, /key|signature/i);
      });

      it('refuses a server that says it has no log key, once one is pinned (a downgrade)', async () => {
        const problem = new Problem('no-log-key', 'no log key is configured (the LOG_SIGNING_KEY secret)');
        proxy.on(CHECKPOINT, {
          kind: 'replace',
          status: 404,
          body: problemBody(problem, CHECKPOINT),
          headers: { 'content-type': 'application/problem+json' },
        });
        await refused(behind, /log key|no-log-key|downgrade/i);
      });
    });

    describe('with --json, each refusal names its code', () => {
      interface Failure {
        readonly error: { readonly kind: string; readonly code?: string; readonly evidence: readonly string[] };
      }
      async function jsonError(client: Client, status: number): Promise<Failure['error']> {
        const { r, before, after } = await attempt(client, ['--json']);
        expect(after, 'FILE and the state directory byte-identical').toEqual(before);
        expect(r.code, r.stderr).toBe(status);
        return (JSON.parse(r.stdout) as Failure).error;
      }

      it('security: rollback, stale, tile-mismatch, leaf-mismatch, inconsistent, log-missing', async () => {
        const cases: [Client, () => unknown, string][] = [
          [current, () => proxy.replay(atVersion2), 'rollback'],
          [behind, () => resigned(Date.now() - 25 * 3600_000), 'stale'],
          [
            behind,
            () => proxy.on(logPath(tilePath({ level: 0, index: 0, width: 3 })), { kind: 'mutate', mutate: inLastHash }),
            'tile-mismatch',
          ],
          [
            behind,
            async () => proxy.on(versionPath(3), { kind: 'replace', body: await forgedRecord(3) }),
            'leaf-mismatch',
          ],
          [
            current,
            async () => {
              const [one, two, three] = await liveLeaves(3);
              if (!one || !two || !three) throw new Error('the log does not have 3 leaves');
              return serveLog([one, two, { ...three, record: 'f'.repeat(64) }]);
            },
            'inconsistent',
          ],
          [
            behind,
            () =>
              proxy.on(CHECKPOINT, {
                kind: 'replace',
                status: 404,
                body: problemBody(new Problem('no-log-key', 'no log key is configured'), CHECKPOINT),
                headers: { 'content-type': 'application/problem+json' },
              }),
            'log-missing',
          ],
        ];
        for (const [client, stage, code] of cases) {
          await stage();
          expect(await jsonError(client, 3)).toMatchObject({ kind: 'security', code });
          proxy.reset();
        }
      });

      it('an unreachable server is kind "unreachable", a 500 an ordinary failure', async () => {
        const nowhere = `http://127.0.0.1:${await freePort()}`;
        const { r, before, after } = await attempt(behind, ['--json', '--url', nowhere]);
        expect(after).toEqual(before);
        expect(r.code, r.stderr).toBe(1);
        expect((JSON.parse(r.stdout) as Failure).error.kind).toBe('unreachable');
        proxy.on(CHECKPOINT, { kind: 'status', status: 500 });
        expect((await jsonError(behind, 1)).kind).not.toBe('security');
      });
    });

    describe('ordinary failures, never security errors', () => {
      it('a checkpoint answered 200 with a page, JSON or nothing: a wrong --url, not an attack', async () => {
        for (const body of ['<html>Welcome to nginx!</html>', '{"hello": 1}', '']) {
          proxy.on(CHECKPOINT, { kind: 'replace', body, headers: { 'content-type': 'text/html' } });
          const r = await failed(behind);
          expect(r.stderr).toMatch(
            /checkpoint answered 200 with (nothing|something that is not a signed checkpoint): not a flake-registry-service answer \(is --url right\?\)/,
          );
          proxy.reset();
        }
      });

      it('a 500 for the checkpoint', async () => {
        proxy.on(CHECKPOINT, { kind: 'status', status: 500 });
        await failed(behind);
        asked(CHECKPOINT);
      });

      it("a 500 for the new version's file", async () => {
        proxy.on(filePath(3), { kind: 'status', status: 500 });
        await failed(behind);
        asked(filePath(3));
      });

      it('the connection dropped in the middle of the checkpoint', async () => {
        proxy.on(CHECKPOINT, { kind: 'drop' });
        await failed(behind);
      });

      it("the connection dropped in the middle of the new version's record and of its file", async () => {
        proxy.on(versionPath(3), { kind: 'drop' });
        await failed(behind);
        proxy.reset();
        proxy.on(filePath(3), { kind: 'drop', fraction: 0.9 });
        await failed(behind);
      });

      it('the connection dropped in the middle of a tile', async () => {
        proxy.on(/\/log\/tile\//, { kind: 'drop' });
        await failed(behind);
      });

      it('the server gone behind the proxy (502), and no server at all', async () => {
        proxy.retarget(`http://127.0.0.1:${await freePort()}`);
        try {
          await failed(behind);
        } finally {
          proxy.retarget(server.origin);
        }
        const nowhere = `http://127.0.0.1:${await freePort()}`;
        const r = await failed(behind, '--url', nowhere);
        expect(r.stderr).toMatch(/reach|connect|refused|unreachable/i);
      });

      it('slow answers are not failures', async () => {
        const client = copyOf(behind);
        proxy.on(/.*/, { kind: 'delay', ms: 300 });
        const r = await sync(client);
        expect(r.code, r.stderr).toBe(0);
        expect(readFileSync(client.file).equals(await direct(filePath(3)))).toBe(true);
      });
    });

    describe('afterwards, through a well-behaved proxy', () => {
      it('the client attacked at version 2 updates to version 3', async () => {
        const r = await sync(behind);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/hostile-two/);
        const line = new RegExp(`^${NAME}: version 2 -> 3 \\(sha256 ([0-9a-f]{8,64})`, 'm').exec(r.stdout);
        expect(line, r.stdout).not.toBeNull();
        expect(sha256(await direct(filePath(3))).startsWith(line?.[1] ?? '-')).toBe(true);
        expect(readFileSync(behind.file).equals(await direct(filePath(3)))).toBe(true);
      });

      it('the client attacked at version 3 is up to date, and says nothing', async () => {
        const before = kept(current);
        expect(await sync(current)).toEqual({ code: 0, stdout: '', stderr: '' });
        expect(kept(current)).toEqual(before);
      });
    });

    it('the server stopped: an ordinary failure, FILE left for Nix to read offline', async () => {
      await server.stop();
      const r = await failed(current);
      expect(readFileSync(current.file).length).toBeGreaterThan(0);
      expect(r.stderr).not.toBe('');
    });
  });
});
