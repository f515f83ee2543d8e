import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import type { Change } from '../../src/protocol/changes.js';
import { kvKeys } from '../../src/store/layout.js';
import type { ProposalView } from '../../src/writer/contract.js';
import { CREATED, TEST_POLICY, teamRegistry } from './fixtures.js';
import { serve, uniqueName, type TestService } from './helpers.js';
import { proposal, settle, submit, writerOf } from './signing.js';

const set = (id: string, owner: string): Change => ({
  op: 'set',
  entry: { from: { type: 'indirect', id }, to: { type: 'github', owner, repo: id } },
});

async function team(): Promise<{ name: string; service: TestService; embedded: Parameters<typeof serve>[0] }> {
  const name = uniqueName('team');
  const embedded = [{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }];
  const service = serve(embedded);
  await (await service.fetch(`/registries/${name}/flake-registry.json`)).arrayBuffer();
  return { name, service, embedded };
}

/**
 * Waits until the KV head names `version`, running the writer's alarm whenever
 * one is set (workerd would run it when due anyway); no client call is made.
 */
async function converge(name: string, version: number): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const head = await env.REGISTRY_KV.get<{ version: number }>(kvKeys.head(name), 'json');
    if (head?.version === version) return;
    await runDurableObjectAlarm(writerOf(name));
    await scheduler.wait(250);
  }
}

describe('concurrent proposals', () => {
  it('merges 32 proposals on different entries submitted at once into contiguous versions, losing none', async () => {
    const { name, service } = await team();
    const ids = Array.from({ length: 32 }, (_, i) => `c${i}`);
    const answers = await Promise.all(
      ids.map((id) => submit(service, proposal(name, 1, [set(id, 'acme')]), ['alice', 'bob'])),
    );
    expect(answers.map((r) => r.status)).toEqual(ids.map(() => 201));
    const views = await Promise.all(answers.map((r) => r.json<ProposalView>()));
    expect(views.every((v) => v.status === 'merged')).toBe(true);
    expect(views.map((v) => v.version).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(ids.map((_, i) => i + 2));
    await settle(name);
    // A reader with nothing in memory sees it all through KV.
    const fresh = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const latest = await fresh.fetch(`/registries/${name}/flake-registry.json`);
    expect(latest.headers.get('X-Registry-Version')).toBe('33');
    const flakes = (JSON.parse(await latest.text()) as { flakes: { from: { id: string } }[] }).flakes;
    for (const id of ids) expect(flakes.map((f) => f.from.id)).toContain(id);
    expect(flakes).toHaveLength(teamRegistry.flakes.length + 32);
    const history = await (
      await fresh.fetch(`/registries/${name}/versions?limit=100`)
    ).json<{
      versions: { version: number }[];
    }>();
    expect(history.versions.map((v) => v.version)).toEqual(Array.from({ length: 33 }, (_, i) => 33 - i));
  });

  it('merges exactly one of two conflicting proposals submitted at once', async () => {
    const { name, service } = await team();
    const answers = await Promise.all([
      submit(service, proposal(name, 1, [set('a', 'left')]), ['alice', 'bob']),
      submit(service, proposal(name, 1, [set('a', 'right')]), ['alice', 'carol']),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409]);
    const head = await service.fetch(`/registries/${name}/flake-registry.json`);
    expect(head.headers.get('X-Registry-Version')).toBe('2');
  });
});

/** A KV namespace that refuses `put` for keys `failing` matches, while `down.value` holds. */
function flakyKv(kv: KVNamespace, failing: (key: string) => boolean, down: { value: boolean }): KVNamespace {
  return new Proxy(kv, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop === 'put' && down.value && failing(String(args[0]))) {
          return Promise.reject(new Error(`KV refused the write of ${String(args[0])}`));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('KV failures during a merge', () => {
  it.each([
    ['the version file', (name: string) => (key: string) => key === kvKeys.versionFile(name, 2)],
    ['the version record', (name: string) => (key: string) => key === kvKeys.versionRecord(name, 2)],
    ['the head', (name: string) => (key: string) => key === kvKeys.head(name)],
  ])(
    'never shows a reader a head without its version when writing %s fails, and converges from the alarm',
    async (_, failing) => {
      const { name, service, embedded } = await team();
      await settle(name);
      const down = { value: true };
      await runInDurableObject(writerOf(name), (writer) => {
        const holder = writer as unknown as { env: Env };
        holder.env = { ...holder.env, REGISTRY_KV: flakyKv(env.REGISTRY_KV, failing(name), down) };
      });
      const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      const merged = await submit(service, proposal(name, 1, [set('tool', 'acme')]), ['alice', 'bob']);
      expect((await merged.json<ProposalView>()).status).toBe('merged');
      await runDurableObjectAlarm(writerOf(name));

      // A reader with nothing in memory: whatever head KV shows, its version is readable.
      const reader = serve(embedded);
      const latest = await reader.fetch(`/registries/${name}/flake-registry.json`);
      expect(latest.status).toBe(200);
      const shown = Number(latest.headers.get('X-Registry-Version'));
      expect(shown).toBe(1);
      expect(await env.REGISTRY_KV.get(kvKeys.head(name), 'json')).toMatchObject({ version: 1 });

      down.value = false;
      // No client call: the alarm the failure scheduled publishes everything.
      await converge(name, 2);
      logged.mockRestore();
      expect(await env.REGISTRY_KV.get(kvKeys.head(name), 'json')).toMatchObject({ version: 2 });
      expect(await env.REGISTRY_KV.get(kvKeys.versionFile(name, 2))).not.toBeNull();
      expect(await env.REGISTRY_KV.get(kvKeys.versionRecord(name, 2))).not.toBeNull();
      const later = await serve(embedded).fetch(`/registries/${name}/flake-registry.json`);
      expect(later.headers.get('X-Registry-Version')).toBe('2');
    },
  );

  it('publishes only the newest head after a burst of merges, at most one head write a second', async () => {
    const { name, service } = await team();
    await settle(name);
    const heads: number[] = [];
    await runInDurableObject(writerOf(name), (writer) => {
      const holder = writer as unknown as { env: Env };
      holder.env = {
        ...holder.env,
        REGISTRY_KV: new Proxy(env.REGISTRY_KV, {
          get(target, prop, receiver) {
            const value: unknown = Reflect.get(target, prop, receiver);
            if (prop !== 'put' || typeof value !== 'function') return value;
            return (key: string, ...rest: unknown[]) => {
              if (key === kvKeys.head(name)) heads.push(Date.now());
              return (value as (...a: unknown[]) => unknown).apply(target, [key, ...rest]);
            };
          },
        }),
      };
    });
    for (let i = 0; i < 6; i++) {
      const res = await submit(service, proposal(name, 1 + i, [set(`b${i}`, 'acme')]), ['alice', 'bob']);
      expect(res.status).toBe(201);
    }
    await settle(name);
    expect(await env.REGISTRY_KV.get(kvKeys.head(name), 'json')).toMatchObject({ version: 7 });
    expect(heads.length).toBeLessThan(6);
    for (let i = 1; i < heads.length; i++) expect((heads[i] ?? 0) - (heads[i - 1] ?? 0)).toBeGreaterThanOrEqual(1_000);
  });
});
