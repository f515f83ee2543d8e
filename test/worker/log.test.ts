import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { sha256HexSync } from '../../src/crypto/sha256.js';
import { env } from 'cloudflare:workers';
import { parseSecretKey } from '../../src/crypto/keys.js';
import { openCheckpoint, signCheckpoint } from '../../src/log/checkpoint.js';
import { followLog, readVersionLeaves } from '../../src/log/client.js';
import { parseVerifierKey } from '../../src/log/vkey.js';
import type { Change } from '../../src/protocol/changes.js';
import { LOG_PUBLIC_KEY } from './fixtures.js';
import type { TestService } from './helpers.js';
import { freshService, proposal, settle, submit, team, writerOf } from './signing.js';

const set = (id: string): Change => ({
  op: 'set',
  entry: { from: { type: 'indirect', id }, to: { type: 'github', owner: 'acme', repo: id } },
});

const ORIGIN = (name: string) => `registry.test/registries/${name}/log`;
const DAY = 86_400_000;

async function text(service: TestService, path: string): Promise<{ status: number; body: string; type: string }> {
  const res = await service.fetch(path);
  return { status: res.status, body: await res.text(), type: res.headers.get('Content-Type') ?? '' };
}

/** The checkpoint once it names `size` versions (the writer signs it right after KV's head). */
async function checkpointAt(name: string, size: number): Promise<string> {
  for (let i = 0; i < 60; i++) {
    await settle(name);
    const { status, body } = await text(freshService(name), `/registries/${name}/log/checkpoint`);
    if (status === 200 && body.split('\n')[1] === String(size)) return body;
    await runDurableObjectAlarm(writerOf(name));
    await scheduler.wait(100);
  }
  throw new Error(`no checkpoint of size ${size} for ${name}`);
}

const fetchTile = (service: TestService, name: string) => async (path: string) => {
  const res = await service.fetch(`/registries/${name}/log/${path}`);
  if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
};

describe("each registry's transparency log", () => {
  it('serves a checkpoint signed and cosigned by the log key, of the log of every version, whose tiles prove each one', async () => {
    const { name, service } = await team();
    for (const id of ['one', 'two', 'three']) {
      expect((await submit(service, proposal(name, 1, [set(id)]), ['alice', 'bob'])).status).toBe(201);
    }
    const note = await checkpointAt(name, 4);
    const vkey = (await text(service, `/registries/${name}/log/key`)).body.trim();
    expect(parseVerifierKey(vkey).publicKey.id).toBe(LOG_PUBLIC_KEY.split(':')[1]);
    const opened = await openCheckpoint(note, { key: vkey, origin: ORIGIN(name), now: Date.now(), maxAgeMs: DAY });
    expect(opened.checkpoint.size).toBe(4);
    // Every leaf is its version's: the hashes of the record and the file served.
    const fresh = freshService(name);
    const { reader } = await followLog(note, {
      key: vkey,
      origin: ORIGIN(name),
      now: Date.now(),
      maxAgeMs: DAY,
      fetchTile: fetchTile(fresh, name),
    });
    const leaves = await readVersionLeaves(reader, name, 1, 4);
    for (const leaf of leaves) {
      const record = await (await fresh.fetch(`/registries/${name}/versions/${leaf.version}`)).text();
      const file = await (await fresh.fetch(`/registries/${name}/versions/${leaf.version}/flake-registry.json`)).text();
      expect(leaf.record).toBe(sha256HexSync(record));
      expect(leaf.file).toBe(sha256HexSync(file));
    }
  });

  it('serves tiles as immutable bytes, refuses paths that are not a tile, and tiles the log does not have yet', async () => {
    const { name, service } = await team();
    await checkpointAt(name, 1);
    const tile = await service.fetch(`/registries/${name}/log/tile/0/000.p/1`);
    expect(tile.status).toBe(200);
    expect(tile.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect((await tile.arrayBuffer()).byteLength).toBe(32);
    expect((await service.fetch(`/registries/${name}/log/tile/entries/000.p/1`)).status).toBe(200);
    const ahead = await service.fetch(`/registries/${name}/log/tile/0/000.p/2`);
    expect(ahead.status).toBe(404);
    expect((await ahead.json<{ type: string }>()).type).toBe('urn:flake-registry:problem:unknown-tile');
    for (const bad of ['tile/0/5', 'tile/0/000.p/256', 'tile/x/000', 'tile/0/x000/001']) {
      const res = await service.fetch(`/registries/${name}/log/${bad}`);
      expect(res.status, bad).toBe(400);
      await res.arrayBuffer();
    }
  });

  it('cosigns its checkpoint again from the alarm, with a later time, the tree unchanged', async () => {
    const { name } = await team();
    const first = await checkpointAt(name, 1);
    const vkey = parseVerifierKey((await text(freshService(name), `/registries/${name}/log/key`)).body.trim());
    const options = { key: vkey, origin: ORIGIN(name), now: Date.now() + 10 * 60_000, maxAgeMs: DAY };
    const before = await openCheckpoint(first, options);
    // As if the last cosignature were two hours old: the alarm's next run cosigns again.
    await runInDurableObject(writerOf(name), (_, state) => {
      state.storage.sql.exec(
        "UPDATE meta SET value = value - 7200000 WHERE key IN ('cosigned_at', 'checkpoint_written_at')",
      );
    });
    await scheduler.wait(1_100);
    const ran = await runDurableObjectAlarm(writerOf(name));
    expect(ran).toBe(true);
    let again = first;
    for (let i = 0; i < 20 && again === first; i++) {
      await scheduler.wait(200);
      again = (await text(freshService(name), `/registries/${name}/log/checkpoint`)).body;
    }
    const after = await openCheckpoint(again, options);
    expect(after.checkpoint).toEqual(before.checkpoint);
    expect(after.timestamp).toBeGreaterThan(before.timestamp - 7200);
    expect(again).not.toBe(first);
  }, 20_000);

  it('signs anew at once when the log key changed, instead of serving a note of the old key', async () => {
    const { name } = await team();
    const note = await checkpointAt(name, 1);
    const vkey = (await text(freshService(name), `/registries/${name}/log/key`)).body.trim();
    // As after a rotation: KV and the writer hold a checkpoint of another key.
    const old = await parseSecretKey(
      'registry.test:nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==',
    );
    const { checkpoint } = await openCheckpoint(note, {
      key: vkey,
      origin: ORIGIN(name),
      now: Date.now(),
      maxAgeMs: DAY,
    });
    const stale = await signCheckpoint(checkpoint, old, Date.now());
    await env.REGISTRY_KV.put(`registry/${name}/log/checkpoint`, stale);
    await runInDurableObject(writerOf(name), (_, state) => {
      state.storage.sql.exec("UPDATE meta SET value = 1 WHERE key = 'checkpoint_key_id'");
      state.storage.sql.exec("UPDATE texts SET text = ? WHERE key = 'checkpoint'", stale);
    });
    // The writer signs at most once a second: until it can, the route says to try again.
    let answer = await text(freshService(name), `/registries/${name}/log/checkpoint`);
    for (let i = 0; answer.status === 503 && i < 30; i++) {
      await scheduler.wait(100);
      answer = await text(freshService(name), `/registries/${name}/log/checkpoint`);
    }
    expect(answer.status).toBe(200);
    const served = answer.body;
    expect(served).not.toBe(stale);
    const opened = await openCheckpoint(served, {
      key: vkey,
      origin: ORIGIN(name),
      now: Date.now(),
      maxAgeMs: DAY,
    });
    expect(opened.checkpoint).toEqual(checkpoint);
  });

  it('says in the checkpoint route that no log key is configured, and serves registries all the same', async () => {
    const { name } = await team();
    const keyless = freshService(name, undefined, { LOG_SIGNING_KEY: '' });
    const res = await keyless.fetch(`/registries/${name}/log/checkpoint`);
    expect(res.status).toBe(404);
    const body = await res.json<{ type: string; detail: string }>();
    expect(body.type).toBe('urn:flake-registry:problem:no-log-key');
    expect(body.detail).toContain('LOG_SIGNING_KEY');
    expect((await keyless.fetch(`/registries/${name}/log/key`)).status).toBe(404);
    expect((await keyless.fetch(`/registries/${name}/flake-registry.json`)).status).toBe(200);
  });

  it('names a log key that cannot sign notes as a misconfiguration', async () => {
    const { name } = await team();
    const broken = freshService(name, undefined, { LOG_SIGNING_KEY: 'not a key' });
    const res = await broken.fetch(`/registries/${name}/log/checkpoint`);
    expect(res.status).toBe(500);
    expect((await res.json<{ detail: string }>()).detail).toContain('LOG_SIGNING_KEY');
  });

  it('gives versions made before the log existed their leaves, so the log covers the whole history', async () => {
    const { name, service } = await team();
    expect((await submit(service, proposal(name, 1, [set('one')]), ['alice', 'bob'])).status).toBe(201);
    await checkpointAt(name, 2);
    // As a deployment from before the log: no leaves, nothing published.
    await runInDurableObject(writerOf(name), (_, state) => {
      state.storage.sql.exec('DELETE FROM log_leaves');
      state.storage.sql.exec("UPDATE meta SET value = 0 WHERE key IN ('log_published', 'checkpoint_size')");
    });
    expect((await submit(service, proposal(name, 2, [set('two')]), ['alice', 'bob'])).status).toBe(201);
    const note = await checkpointAt(name, 3);
    const vkey = (await text(service, `/registries/${name}/log/key`)).body.trim();
    const { reader } = await followLog(note, {
      key: vkey,
      origin: ORIGIN(name),
      now: Date.now(),
      maxAgeMs: DAY,
      fetchTile: fetchTile(freshService(name), name),
    });
    expect((await readVersionLeaves(reader, name, 1, 3)).map((l) => l.version)).toEqual([1, 2, 3]);
  });
});
