import { describe, expect, it } from 'vitest';
import { fetchWorker } from './helpers.js';

// Real requests to the test entry (worker.ts), each in its own request context as
// in production: state kept across requests must never depend on one of them.

/** A request that has not answered in this time is taken as hung. */
const PROMPT_MS = 4_000;

async function promptly(path: string): Promise<Response> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`GET ${path} did not answer within ${PROMPT_MS} ms`)), PROMPT_MS);
  });
  try {
    return await Promise.race([fetchWorker(path), hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every route that reads registry `name`, which must all answer after whatever came before. */
async function expectReadsAnswer(name: string): Promise<void> {
  for (const path of [
    `/registries/${name}/flake-registry.json`,
    `/registries/${name}/versions/1/flake-registry.json`,
    `/registries/${name}/versions/1`,
    `/registries/${name}/versions`,
    `/resolve?ref=nixpkgs&registry=${name}`,
  ]) {
    const res = await promptly(path);
    expect(res.status, path).toBe(200);
    await res.arrayBuffer();
  }
}

describe('no request stalls another', { timeout: 30_000 }, () => {
  it.each([
    ['an unknown registry', 'cold-0', (n: string) => `${n}@1,nope`],
    ['a typo after the latest version', 'cold-1', (n: string) => `${n},globl`],
    ['a version not published yet', 'cold-2', (n: string) => `${n}@1,${n}@99`],
    ['a version not published yet, pinned first', 'cold-3', (n: string) => `${n}@99,${n}@1`],
    ['an unknown registry before a cold one', 'cold-4', (n: string) => `nope,${n}`],
  ])('serves a cold registry after a layered /resolve fails on %s', async (_, name, layers) => {
    const failed = await promptly(`/resolve?ref=nixpkgs&registry=${layers(name)}`);
    expect(failed.status).toBe(404);
    await failed.arrayBuffer();
    await expectReadsAnswer(name);
  });

  it('serves every other registry after /registries meets one that cannot be published', async () => {
    const listing = await promptly('/registries');
    expect(listing.status).toBe(200);
    const body = await listing.json<{ registries: { name: string; error?: { type: string } }[] }>();
    expect(body.registries.find((r) => r.name === 'broken')?.error?.type).toBe(
      'urn:flake-registry:problem:registry-misconfigured',
    );
    expect(body.registries.filter((r) => r.error !== undefined).map((r) => r.name)).toEqual(['broken']);
    await expectReadsAnswer('cold-5');
    await expectReadsAnswer('global');
  });

  it('serves a registry whose cold load was started by a request that was aborted', async () => {
    for (const path of ['/registries/cold-6/flake-registry.json', '/resolve?ref=nixpkgs&registry=cold-7']) {
      const controller = new AbortController();
      const settled = fetchWorker(path, { signal: controller.signal }).then(
        (res) => res.arrayBuffer(),
        () => undefined,
      );
      // Once the request has started its KV and Durable Object calls.
      await scheduler.wait(2);
      controller.abort();
      await settled;
    }
    await expectReadsAnswer('cold-6');
    await expectReadsAnswer('cold-7');
  });

  it('answers concurrent cold requests, then serves from memory', async () => {
    const paths = Array.from({ length: 8 }, () => '/registries/cold-8/versions/1/flake-registry.json');
    const answers = await Promise.all(paths.map((p) => promptly(p)));
    expect(answers.map((r) => r.status)).toEqual(paths.map(() => 200));
    const bodies = await Promise.all(answers.map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1);
    await expectReadsAnswer('cold-8');
  });
});
