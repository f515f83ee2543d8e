import { beforeAll, describe, expect, it } from 'vitest';
import { generateSecretKey, type SecretKey } from '../../src/crypto/keys.js';
import { sha256HexSync } from '../../src/crypto/sha256.js';
import { signCheckpoint } from '../../src/log/checkpoint.js';
import { leafData } from '../../src/log/leaf.js';
import { MerkleTree, leafHash } from '../../src/log/merkle.js';
import { logOrigin } from '../../src/log/origin.js';
import { bundlePath, formatBundle, newTiles, tileBytes, tilePath } from '../../src/log/tiles.js';
import { formatVerifierKey, verifierKey } from '../../src/log/vkey.js';
import type { HistoryVersion } from '../../src/protocol/verify.js';
import { verifyServedHistory, type ServedProgress } from '../../src/served/history.js';
import { ServedError, fetchSource } from '../../src/served/source.js';
import { History } from '../protocol/history.js';

const entry = (id: string) => ({ from: { type: 'indirect', id }, to: { type: 'github', owner: 'o', repo: id } });
const set = (id: string) => ({ op: 'set' as const, entry: entry(id) });
const NOW = Date.UTC(2026, 3, 1);
const noLog = JSON.stringify({
  type: 'urn:flake-registry:problem:no-log-key',
  title: 'No log key',
  detail: 'no log key is configured',
});

/**
 * A service as the core reads it, from a history's exact bytes: the version routes, and
 * (with a key) the log's checkpoint, key and tiles, one leaf per version as the writer makes it.
 */
async function service(
  versions: readonly HistoryVersion[],
  key?: SecretKey,
  logged: readonly HistoryVersion[] = versions,
): Promise<{ fetch: (path: string) => Promise<Response>; asked: string[] }> {
  const routes = new Map<string, string | Uint8Array>();
  const base = '/registries/team';
  routes.set(
    `${base}/versions?limit=1`,
    JSON.stringify({
      registry: 'team',
      latest: versions.length,
      versions: [JSON.parse(versions.at(-1)?.recordText ?? '{}') as unknown],
      next: null,
    }),
  );
  for (const [i, v] of versions.entries()) {
    routes.set(`${base}/versions/${i + 1}`, v.recordText);
    routes.set(`${base}/versions/${i + 1}/flake-registry.json`, v.file);
  }
  if (key) {
    const tree = new MerkleTree();
    const leaves = logged.map((v, i) =>
      leafData({ registry: 'team', version: i + 1, record: sha256HexSync(v.recordText), file: sha256HexSync(v.file) }),
    );
    for (const leaf of leaves) tree.append(leafHash(leaf));
    const { tiles, bundles } = newTiles(0, tree.size);
    for (const t of tiles) routes.set(`${base}/log/${tilePath(t)}`, tileBytes(tree, t));
    for (const b of bundles) {
      routes.set(`${base}/log/${bundlePath(b)}`, formatBundle(leaves.slice(b.index * 256, b.index * 256 + b.width)));
    }
    const origin = logOrigin(key.name, 'team');
    routes.set(
      `${base}/log/checkpoint`,
      await signCheckpoint({ origin, size: tree.size, root: tree.root(), extensions: [] }, key, NOW),
    );
    routes.set(`${base}/log/key`, formatVerifierKey(verifierKey(key.publicKey)));
  }
  const asked: string[] = [];
  return {
    asked,
    fetch: (path) => {
      asked.push(path);
      const body = routes.get(path);
      if (body !== undefined) return Promise.resolve(new Response(body, { status: 200 }));
      if (path.startsWith(`${base}/log/`)) {
        return Promise.resolve(
          new Response(noLog, { status: 404, headers: { 'Content-Type': 'application/problem+json' } }),
        );
      }
      return Promise.resolve(new Response('{}', { status: 404 }));
    },
  };
}

describe('a history fetched from a service and checked', () => {
  let history: History;
  let key: SecretKey;

  beforeAll(async () => {
    history = History.seed({ version: 2, flakes: [entry('a'), entry('b')] });
    await history.merge([set('c')], { signers: ['alice', 'bob'] });
    await history.merge([set('d')], { signers: ['bob', 'carol'] });
    await history.merge([{ op: 'remove', from: { type: 'indirect', id: 'a' } }], { signers: ['alice', 'carol'] });
    key = await generateSecretKey('registry.test');
  });

  it('verifies every version and the whole log with the key the service gives, reporting progress', async () => {
    const served = await service(history.versions, key);
    const progress: ServedProgress[] = [];
    const result = await verifyServedHistory(fetchSource(served.fetch), {
      registry: 'team',
      now: () => NOW,
      onProgress: (p) => progress.push(p),
    });
    expect(result.history).toMatchObject({ ok: true, versions: 4, head: { version: 4 } });
    expect(result.log).toMatchObject({ size: 4, key: 'registry.test', pinned: false });
    expect(progress.filter((p) => p.step === 'fetched').map((p) => p.done)).toEqual([1, 2, 3, 4]);
    expect(progress.filter((p) => p.step === 'verified')).toEqual(
      [1, 2, 3, 4].map((done) => ({ step: 'verified', done, total: 4 })),
    );
    // The checkpoint is read before the history, so the history covers every version it names.
    expect(served.asked[0]).toBe('/registries/team/log/checkpoint');
  });

  it('names the version whose file differs by one byte from what its record says', async () => {
    const altered = history.versions.map((v, i) => (i === 1 ? { ...v, file: v.file.replace('"c"', '"e"') } : v));
    const served = await service(altered, key, history.versions);
    const result = await verifyServedHistory(fetchSource(served.fetch), { registry: 'team', now: () => NOW });
    expect(result.history).toMatchObject({ ok: false, version: 2, code: 'file-hash-mismatch' });
    expect(result.log).toBeUndefined();
  });

  it("finds a log that disagrees with the history it was served with: the version's leaf", async () => {
    const other = History.seed({ version: 2, flakes: [entry('a'), entry('b')] });
    await other.merge([set('x')], { signers: ['alice', 'bob'] });
    const logged = [...history.versions.slice(0, 1), ...other.versions.slice(1), ...history.versions.slice(2)];
    const served = await service(history.versions, key, logged);
    const result = await verifyServedHistory(fetchSource(served.fetch), { registry: 'team', now: () => NOW });
    expect(result.history).toMatchObject({ ok: true });
    expect(result.log).toMatchObject({ code: 'leaf-mismatch' });
    expect(result.log).toHaveProperty('reason', expect.stringMatching(/^version 2's record hashes to /));
  });

  it('says when the service keeps no log, and refuses a pinned key then', async () => {
    const served = await service(history.versions);
    const result = await verifyServedHistory(fetchSource(served.fetch), { registry: 'team', now: () => NOW });
    expect(result.log).toEqual({ absent: 'the service keeps no transparency log: no log key is configured' });
    const pinned = verifyServedHistory(fetchSource(served.fetch), {
      registry: 'team',
      logKey: verifierKey(key.publicKey),
    });
    await expect(pinned).rejects.toBeInstanceOf(ServedError);
    await expect(pinned).rejects.toHaveProperty('kind', 'no-log');
  });

  it('refuses an answer the service would not give, naming the route', async () => {
    const served = await service(history.versions.slice(0, 2));
    const missing = async (path: string) =>
      path.endsWith('/versions/2') ? new Response('gone', { status: 500 }) : served.fetch(path);
    await expect(verifyServedHistory(fetchSource(missing), { registry: 'team' })).rejects.toThrow(
      'GET /registries/team/versions/2 answered 500',
    );
  });

  it('gives up on an answer that stalls, naming the route, and aborts its request', async () => {
    const served = await service(history.versions.slice(0, 2));
    let aborted: unknown;
    // The file of version 2 never answers; the others do at once.
    const stalled = (path: string, signal: AbortSignal) => {
      if (!path.endsWith('/versions/2/flake-registry.json')) return served.fetch(path);
      signal.addEventListener('abort', () => (aborted = signal.reason as unknown));
      return new Promise<Response>(() => undefined);
    };
    const checked = verifyServedHistory(fetchSource(stalled, 20), { registry: 'team' });
    await expect(checked).rejects.toHaveProperty('kind', 'timeout');
    await expect(checked).rejects.toThrow(
      'GET /registries/team/versions/2/flake-registry.json did not answer within 0.02 s',
    );
    expect(aborted).toBeInstanceOf(ServedError);
  });

  it('names the request a service dropped, headers or body', async () => {
    const served = await service(history.versions.slice(0, 2));
    // The record of version 2 is dropped before any answer, as a fetch says it: a TypeError.
    const dropped = (path: string) =>
      path.endsWith('/versions/2') ? Promise.reject(new TypeError('Failed to fetch')) : served.fetch(path);
    const checked = verifyServedHistory(fetchSource(dropped), { registry: 'team' });
    await expect(checked).rejects.toBeInstanceOf(ServedError);
    await expect(checked).rejects.toHaveProperty('kind', 'unreachable');
    await expect(checked).rejects.toThrow(
      'GET /registries/team/versions/2 got no answer: the connection failed or was closed (Failed to fetch)',
    );
    // A body cut off after its headers.
    const cut = (path: string) =>
      path.endsWith('/versions/1')
        ? Promise.resolve(
            new Response(new ReadableStream({ start: (c) => c.error(new TypeError('network error')) }), {
              status: 200,
            }),
          )
        : served.fetch(path);
    await expect(verifyServedHistory(fetchSource(cut), { registry: 'team' })).rejects.toThrow(
      'GET /registries/team/versions/1 got no answer: the connection failed or was closed (network error)',
    );
  });

  it('gives up on a body that stops arriving after its headers', async () => {
    const served = await service(history.versions.slice(0, 2));
    const stalled = (path: string) =>
      path.endsWith('/versions/1')
        ? Promise.resolve(new Response(new ReadableStream({ start: () => undefined }), { status: 200 }))
        : served.fetch(path);
    await expect(verifyServedHistory(fetchSource(stalled, 20), { registry: 'team' })).rejects.toThrow(
      'GET /registries/team/versions/1 did not answer within 0.02 s',
    );
  });
});
