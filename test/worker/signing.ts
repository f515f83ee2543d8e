import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { formatSignature, parseSecretKey } from '../../src/crypto/keys.js';
import type { Change } from '../../src/protocol/changes.js';
import type { Proposal } from '../../src/protocol/proposal.js';
import type { HistoryVersion } from '../../src/protocol/verify.js';
import { proposalBytes, signProposal } from '../../src/protocol/signing.js';
import { sha256HexSync } from '../../src/crypto/sha256.js';
import { CREATED, KEYS, TEST_POLICY, teamRegistry } from './fixtures.js';
import { kvKeys } from '../../src/store/layout.js';
import { serve, uniqueName, type TestService } from './helpers.js';
import type { RegistryWriter } from '../../src/writer/writer.js';

export type Signer = keyof typeof KEYS;

const DAY = 86_400_000;

/** A proposal dated now, open for a day unless told otherwise. */
export function proposal(
  registry: string,
  base: number,
  changes: Change[],
  options: { message?: string; created?: number; expires?: number } = {},
): Proposal {
  const created = options.created ?? Date.now();
  return {
    registry,
    base,
    changes,
    message: options.message ?? 'test change',
    created: new Date(created).toISOString(),
    expires: new Date(options.expires ?? created + DAY).toISOString(),
  };
}

export const idOf = (p: Proposal): string => sha256HexSync(proposalBytes(p));

/** `signer`'s signature over `p`, under the key's own name or another one. */
export async function signature(p: Proposal, signer: Signer, name?: string): Promise<string> {
  const sig = await signProposal(await parseSecretKey(KEYS[signer].secret), p);
  return formatSignature(name === undefined ? sig : { ...sig, name });
}

export async function submission(
  p: Proposal,
  signers: readonly Signer[],
): Promise<{ proposal: Proposal; signatures: string[] }> {
  return { proposal: p, signatures: await Promise.all(signers.map((s) => signature(p, s))) };
}

export const postJson = (service: TestService, path: string, body: unknown): Promise<Response> =>
  service.fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

export async function submit(service: TestService, p: Proposal, signers: readonly Signer[]): Promise<Response> {
  return postJson(service, `/registries/${p.registry}/proposals`, await submission(p, signers));
}

export async function approve(service: TestService, p: Proposal, signer: Signer, name?: string): Promise<Response> {
  return postJson(service, `/registries/${p.registry}/proposals/${idOf(p)}/approvals`, {
    signature: await signature(p, signer, name),
  });
}

/** Every KV key of a registry and its value: compared before and after a refused request. */
export async function kvSnapshot(registry: string): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  let cursor: string | undefined;
  do {
    const page = await env.REGISTRY_KV.list({ prefix: `registry/${registry}/`, ...(cursor ? { cursor } : {}) });
    for (const key of page.keys) out[key.name] = await env.REGISTRY_KV.get(key.name);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return out;
}

/** The registry's writer, for reaching inside it (alarms, the clock). */
export const writerOf = (registry: string) => env.REGISTRY_WRITER.get(env.REGISTRY_WRITER.idFromName(registry));

/**
 * Lets the writer finish publishing: waits until the KV head names the writer's
 * head, running the writer's alarm whenever it is due (a head write waits out
 * KV's one-write-a-second limit). Alarms set far ahead, such as an open
 * proposal's expiry, are left alone.
 */
export async function settle(registry: string): Promise<void> {
  const stub = writerOf(registry);
  for (let i = 0; i < 60; i++) {
    const [head, due] = await runInDurableObject(stub, async (writer, state) => [
      (writer as RegistryWriter).head()?.version,
      await state.storage.getAlarm(),
    ]);
    const kvHead = await env.REGISTRY_KV.get<{ version: number }>(kvKeys.head(registry), 'json');
    if (head === undefined || kvHead?.version === head) return;
    if (due !== null && due <= Date.now()) await runDurableObjectAlarm(stub);
    else await scheduler.wait(100);
  }
  throw new Error(`KV did not catch up with the writer of '${registry}'`);
}

/** A registry of its own for one test (teamRegistry under `policy`), created and served. */
export async function team(policy: unknown = TEST_POLICY): Promise<{ name: string; service: TestService }> {
  const name = uniqueName('team');
  const service = serve([{ name, file: teamRegistry, policy, created: CREATED }]);
  const res = await service.fetch(`/registries/${name}/flake-registry.json`);
  if (res.status !== 200) throw new Error(`registry ${name} did not start: ${res.status}`);
  await res.arrayBuffer();
  return { name, service };
}

/** Another isolate's view of `name` (its own memory): what it serves once KV has caught up. */
export function freshService(name: string, policy: unknown = TEST_POLICY, vars?: Record<string, string>): TestService {
  return serve([{ name, file: teamRegistry, policy, created: CREATED }], vars ? { vars } : {});
}

/** Every version of `name` as the service serves it, for the history verifier. */
export async function servedHistory(service: TestService, name: string): Promise<HistoryVersion[]> {
  const latest = Number(
    (await service.fetch(`/registries/${name}/flake-registry.json`)).headers.get('X-Registry-Version'),
  );
  const versions: HistoryVersion[] = [];
  for (let n = 1; n <= latest; n++) {
    const record = await service.fetch(`/registries/${name}/versions/${n}`);
    const file = await service.fetch(`/registries/${name}/versions/${n}/flake-registry.json`);
    versions.push({ recordText: await record.text(), file: await file.text() });
  }
  return versions;
}
