import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { sha256HexSync } from '../../src/crypto/sha256.js';
import { readRegistryAsNix } from '../../src/nix/registry.js';
import type { Change } from '../../src/protocol/changes.js';
import { kvKeys } from '../../src/store/layout.js';
import { deriveLookupForm, shardCount, shardOf } from '../../src/store/lookup-form.js';
import { matchKey } from '../../src/nix/lookup.js';
import { CREATED, TEST_POLICY, teamRegistry } from './fixtures.js';
import { countingKv, publish, serve, uniqueName } from './helpers.js';
import { proposal, settle, submit, team, writerOf } from './signing.js';
import { WriterLog } from '../../src/writer/log.js';
import { Publisher, versionWrites } from '../../src/writer/publish.js';
import { WriterSql } from '../../src/writer/sql.js';
import { StoredState } from '../../src/writer/state.js';
import { META } from '../../src/writer/tables.js';

const set = (id: string, owner: string): Change => ({
  op: 'set',
  entry: { from: { type: 'indirect', id }, to: { type: 'github', owner, repo: id } },
});

/** A registry large enough for several shards: `n` entries `f0` ... before the team's own. */
function bigRegistry(n: number) {
  const flakes = Array.from({ length: n }, (_, i) => ({
    from: { type: 'indirect', id: `f${i}` },
    to: { type: 'github', owner: `o${i % 7}`, repo: `f${i}` },
  }));
  return { version: 2, flakes: [...flakes, ...teamRegistry.flakes] };
}

const PATHS = (name: string, version?: number) =>
  ['nixpkgs', 'nixpkgs/nixos-24.05', 'chain', 'asub', 'x', 'missing', 'f3', 'f700', 'github:o/r'].map(
    (ref) => `/resolve?ref=${encodeURIComponent(ref)}&registry=${name}${version === undefined ? '' : `@${version}`}`,
  );

/**
 * The shards a lookup of `fN` in bigRegistry reads: its own key's alone (Nix looks up the
 * GitHub target too, but no entry's `from` is of type github, which the manifest says).
 */
function shardKeys(name: string, entries: number, id: string): string[] {
  return [kvKeys.lookupShard(name, 1, shardOf(matchKey({ type: 'indirect', id }), shardCount(entries)))];
}

/** Every answer (status and body) of `paths`, from a service of its own, with the KV keys it read. */
async function answersOf(name: string, file: unknown, paths: readonly string[], kv: KVNamespace = env.REGISTRY_KV) {
  const counter = countingKv(kv);
  const service = serve([{ name, file, policy: TEST_POLICY, created: CREATED }], { kv: counter.kv });
  const answers = [];
  for (const path of paths) {
    const res = await service.fetch(path);
    answers.push({ status: res.status, body: await res.text() });
  }
  return { answers, keys: counter.keys, service, counter };
}

/** The lookup form of `name`@`version` as the file in KV gives it. */
async function formFromFile(name: string, version: number) {
  const file = (await env.REGISTRY_KV.get(kvKeys.versionFile(name, version))) as string;
  const record = JSON.parse((await env.REGISTRY_KV.get(kvKeys.versionRecord(name, version))) as string) as {
    sha256: string;
  };
  return deriveLookupForm(name, version, record.sha256, readRegistryAsNix(file).registry);
}

async function storedForm(name: string, version: number) {
  const manifest = (await env.REGISTRY_KV.get(kvKeys.lookupManifest(name, version))) as string;
  const listed = JSON.parse(manifest) as { shards: string[]; blocks: string[] };
  const shards = [];
  for (let i = 0; i < listed.shards.length; i++) {
    shards.push(await env.REGISTRY_KV.get(kvKeys.lookupShard(name, version, i)));
  }
  const blocks = [];
  for (let i = 0; i < listed.blocks.length; i++) {
    blocks.push(await env.REGISTRY_KV.get(kvKeys.lookupBlock(name, version, i)));
  }
  return { manifest, shards, blocks };
}

describe('the lookup form', () => {
  it("is published with each version, exactly as the version's file gives it", async () => {
    const { name, service } = await team();
    for (const [i, id] of ['tool', 'nixpkgs', 'a'].entries()) {
      const res = await submit(service, proposal(name, i + 1, [set(id, `owner${i}`)]), ['alice', 'bob']);
      expect(res.status).toBe(201);
    }
    await settle(name);
    for (let v = 1; v <= 4; v++) expect(await storedForm(name, v)).toEqual(await formFromFile(name, v));
  });

  it('publishes a burst across invocations when one run would take KV past its operations, the head naming what KV has', async () => {
    const { name, service } = await team();
    for (const [i, id] of ['t1', 't2', 't3', 't4'].entries()) {
      expect((await submit(service, proposal(name, i + 1, [set(id, 'o')]), ['alice', 'bob'])).status).toBe(201);
    }
    await settle(name);
    const puts: string[] = [];
    const kv = new Proxy(env.REGISTRY_KV, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (prop === 'put') {
          return (key: string, body: string) => {
            puts.push(key);
            return target.put(key, body);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await runInDurableObject(writerOf(name), async (_writer, state) => {
      // KV as it was before versions 2 to 5 were published, and a run allowed two versions' writes.
      const sql = new WriterSql(state.storage.sql);
      for (const key of [META.published, META.headPublished, META.headWrittenAt])
        sql.setMeta(key, key === META.headWrittenAt ? 0 : 1);
      const log = new WriterLog(sql);
      const stored = new StoredState(sql, log);
      const perVersion = versionWrites(teamRegistry.flakes.length + 1);
      const publisher = new Publisher(
        state,
        sql,
        () => kv,
        log,
        () => Promise.resolve(undefined),
        (v) => stored.registryAt(v),
        2 * perVersion,
      );
      expect(await publisher.publish()).toBe('published');
      expect(sql.meta(META.published)).toBe(3);
      expect(sql.meta(META.headPublished)).toBe(3);
      expect(puts.filter((k) => k.includes('/version/')).length).toBe(2 * perVersion);
      expect(puts.filter((k) => k === kvKeys.head(name))).toHaveLength(1);
      expect(await state.storage.getAlarm()).not.toBeNull();
      // The next invocation (the alarm) goes on from there.
      sql.setMeta(META.headWrittenAt, 0);
      expect(await publisher.publish()).toBe('published');
      expect(sql.meta(META.published)).toBe(5);
      expect(sql.meta(META.headPublished)).toBe(5);
    });
    expect(await env.REGISTRY_KV.get<{ version: number }>(kvKeys.head(name), 'json')).toMatchObject({ version: 5 });
  });

  it('answers a first /resolve from its lookup form, without reading the file, as the file answers', async () => {
    const name = uniqueName();
    const file = bigRegistry(1_000);
    const first = await answersOf(name, file, PATHS(name));
    await settle(name);
    const manifest = JSON.parse((await env.REGISTRY_KV.get(kvKeys.lookupManifest(name, 1))) as string) as {
      shards: string[];
    };
    expect(manifest.shards).toHaveLength(shardCount(1_000 + teamRegistry.flakes.length));

    // Another isolate, cold: the shard of the key it looks up, never the file.
    const cold = await answersOf(name, file, [`/resolve?ref=f3&registry=${name}`]);
    expect(cold.answers[0]?.status).toBe(200);
    expect(cold.keys).not.toContain(kvKeys.versionFile(name, 1));
    expect(cold.keys).toContain(kvKeys.lookupManifest(name, 1));
    const shards = cold.keys.filter((k) => k.startsWith(`${kvKeys.lookupManifest(name, 1)}/shard/`));
    expect(shards.sort()).toEqual(shardKeys(name, 1_010, 'f3'));

    // Every answer the same as one read from the file (a version with no lookup form).
    const again = await answersOf(name, file, PATHS(name));
    expect(again.keys).not.toContain(kvKeys.versionFile(name, 1));
    expect(again.answers).toEqual(first.answers);
    await env.REGISTRY_KV.delete(kvKeys.lookupManifest(name, 1));
    const fromFile = await answersOf(name, file, PATHS(name));
    expect(fromFile.keys).toContain(kvKeys.versionFile(name, 1));
    expect(fromFile.answers).toEqual(first.answers);
  });

  it('makes no KV read for a warm /resolve, and reads only a missing shard for another key', async () => {
    const name = uniqueName();
    const file = bigRegistry(2_000);
    await answersOf(name, file, [`/resolve?ref=f1&registry=${name}@1`]);
    await settle(name);
    const { service, counter } = await answersOf(name, file, [`/resolve?ref=f1&registry=${name}@1`]);
    const cold = counter.reads();
    expect((await service.fetch(`/resolve?ref=f1&registry=${name}@1`)).status).toBe(200);
    expect((await service.fetch(`/resolve?ref=f1/branch&registry=${name}@1`)).status).toBe(200);
    expect(counter.reads()).toBe(cold);
    const held = new Set(shardKeys(name, 2_010, 'f1'));
    const other = Array.from({ length: 2_000 }, (_, i) => `f${i}`).find((id) =>
      shardKeys(name, 2_010, id).every((k) => !held.has(k)),
    ) as string;
    expect((await service.fetch(`/resolve?ref=${other}&registry=${name}@1`)).status).toBe(200);
    expect(counter.keys.slice(cold).sort()).toEqual(shardKeys(name, 2_010, other));
  });

  it('never asks KV for the form of a version it had from the writer before KV named it (KV would keep the miss)', async () => {
    const name = uniqueName('team');
    const counter = countingKv(env.REGISTRY_KV);
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }], { kv: counter.kv });
    expect((await service.fetch(`/registries/${name}/flake-registry.json`)).status).toBe(200);
    const merged = await submit(service, proposal(name, 1, [set('tool', 'acme')]), ['alice', 'bob']);
    expect(merged.status).toBe(201);
    const res = await service.fetch(`/resolve?ref=tool&registry=${name}`);
    expect(await res.json()).toMatchObject({ resolved: { url: 'github:acme/tool' }, registries: [{ version: 2 }] });
    expect(counter.keys.filter((k) => k.includes('/lookup'))).toEqual([]);
  });

  it('serves a version published before lookup forms existed from its file', async () => {
    const name = uniqueName();
    await answersOf(name, teamRegistry, [`/resolve?ref=a&registry=${name}`]);
    await settle(name);
    const changed = {
      version: 2,
      flakes: [{ from: { type: 'indirect', id: 'a' }, to: { type: 'path', path: '/a2' } }],
    };
    await publish(name, 2, changed, '2026-03-02T00:00:00.000Z');
    const { answers, keys } = await answersOf(name, teamRegistry, [`/resolve?ref=a&registry=${name}@2`]);
    expect(answers[0]?.status).toBe(200);
    expect(JSON.parse(answers[0]?.body as string)).toMatchObject({ resolved: { url: 'path:/a2' } });
    expect(keys).toContain(kvKeys.versionFile(name, 2));
  });

  it("shows a page of a registry's entries from the block that holds them, as the file shows it", async () => {
    const name = uniqueName();
    const file = bigRegistry(2_500);
    const pages = [`/r/${name}`, `/r/${name}?page=6`, `/r/${name}?page=13`, `/r/${name}?q=f24`];
    await answersOf(name, file, [`/r/${name}`]);
    await settle(name);
    const fromForm = await answersOf(name, file, pages.slice(0, 3));
    expect(fromForm.answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(fromForm.keys).not.toContain(kvKeys.versionFile(name, 1));
    // Page 6 holds entries 1,000 to 1,199: block 1 alone.
    expect(fromForm.keys.filter((k) => k.includes('/lookup/block/')).sort()).toEqual(
      [0, 1, 2].map((b) => kvKeys.lookupBlock(name, 1, b)),
    );
    const filtered = await answersOf(name, file, pages.slice(3));
    expect(filtered.answers[0]?.body).toContain('f2499');
    await env.REGISTRY_KV.delete(kvKeys.lookupManifest(name, 1));
    const fromFile = await answersOf(name, file, pages);
    expect(fromFile.keys).toContain(kvKeys.versionFile(name, 1));
    expect([...fromForm.answers, ...filtered.answers]).toEqual(fromFile.answers);
  });

  describe('is never served when it disagrees with its version', () => {
    /** A registry whose file answers; its form is then spoiled by `spoil`, and a cold isolate asked. */
    async function spoiled(spoil: (name: string) => Promise<void>) {
      const name = uniqueName();
      const file = bigRegistry(600);
      const truth = await answersOf(name, file, PATHS(name, 1));
      await settle(name);
      await spoil(name);
      const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const seen = await answersOf(name, file, [...PATHS(name, 1), ...PATHS(name, 1)]);
        expect(seen.answers).toEqual([...truth.answers, ...truth.answers]);
        // Read from the file instead, once, and the form refused once with what is wrong.
        expect(seen.keys.filter((k) => k === kvKeys.versionFile(name, 1))).toHaveLength(1);
        const logged = errors.mock.calls.map((c) => String(c[0]));
        expect(logged.filter((l) => l.includes(`the lookup form of ${name}@1 disagrees`))).toHaveLength(1);
        return logged.join('\n');
      } finally {
        errors.mockRestore();
      }
    }

    const shardKeyOf = (name: string, id: string) =>
      kvKeys.lookupShard(name, 1, shardOf(matchKey({ type: 'indirect', id }), shardCount(610)));

    it('a shard with one byte changed', async () => {
      const logged = await spoiled(async (name) => {
        const key = shardKeyOf(name, 'nixpkgs');
        const text = (await env.REGISTRY_KV.get(key)) as string;
        await env.REGISTRY_KV.put(key, text.replace('"NixOS"', '"NixOs"'));
      });
      expect(logged).toMatch(/its shard \d+ does not hash to what its manifest says/);
    });

    it('a block with one byte changed, on the page that shows it', async () => {
      const name = uniqueName();
      const file = bigRegistry(600);
      const truth = await answersOf(name, file, [`/r/${name}?page=2`]);
      await settle(name);
      const key = kvKeys.lookupBlock(name, 1, 0);
      await env.REGISTRY_KV.put(key, ((await env.REGISTRY_KV.get(key)) as string).replace('"f300"', '"f30O"'));
      const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const seen = await answersOf(name, file, [`/r/${name}?page=2`]);
        expect(seen.answers).toEqual(truth.answers);
        expect(seen.keys).toContain(kvKeys.versionFile(name, 1));
        expect(errors.mock.calls.map((c) => String(c[0])).join('\n')).toContain(
          'its block 0 does not hash to what its manifest says',
        );
      } finally {
        errors.mockRestore();
      }
    });

    it('a shard that is missing', async () => {
      const logged = await spoiled((name) => env.REGISTRY_KV.delete(shardKeyOf(name, 'nixpkgs')));
      expect(logged).toMatch(/its shard \d+ is missing/);
    });

    it("another version's manifest", async () => {
      const logged = await spoiled(async (name) => {
        const manifest = JSON.parse((await env.REGISTRY_KV.get(kvKeys.lookupManifest(name, 1))) as string) as {
          file: string;
        };
        const other = { ...manifest, file: sha256HexSync('another file') };
        await env.REGISTRY_KV.put(kvKeys.lookupManifest(name, 1), JSON.stringify(other));
      });
      expect(logged).toContain('its manifest was derived from a file with SHA-256');
    });

    it('a shard and its hash rewritten together, with an entry under another key', async () => {
      const logged = await spoiled(async (name) => {
        const key = shardKeyOf(name, 'nixpkgs');
        const shard = JSON.parse((await env.REGISTRY_KV.get(key)) as string) as {
          groups: Record<string, [number, Record<string, string>, ...unknown[]][]>;
        };
        const group = shard.groups[matchKey({ type: 'indirect', id: 'nixpkgs' })];
        if (!group?.[0]) throw new Error('no nixpkgs group');
        group[0][1] = { type: 'indirect', id: 'elsewhere' };
        const text = JSON.stringify(shard);
        const manifest = JSON.parse((await env.REGISTRY_KV.get(kvKeys.lookupManifest(name, 1))) as string) as {
          shards: string[];
        };
        manifest.shards[Number(key.split('/').at(-1))] = sha256HexSync(text);
        await env.REGISTRY_KV.put(key, text);
        await env.REGISTRY_KV.put(kvKeys.lookupManifest(name, 1), JSON.stringify(manifest));
      });
      expect(logged).toMatch(/its shard \d+ holds the entry at position \d+ under another key/);
    });
  });
});
