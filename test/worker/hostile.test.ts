import { describe, expect, it } from 'vitest';
import globalRegistry from '../../registries/global.json';
import { CREATED, TEST_POLICY } from './fixtures.js';
import { serve, uniqueName } from './helpers.js';
import { encodeRef, generate, show } from './hostile-inputs.js';
import { generateRequests } from './hostile-requests.js';
import { mulberry32 } from '../../scripts/bench/prng.js';
import type { Change } from '../../src/protocol/changes.js';
import type { Proposal } from '../../src/protocol/proposal.js';
import { proposalBytes } from '../../src/protocol/signing.js';
import { verifyHistory } from '../../src/protocol/verify.js';
import { hostileTargets } from '../support/hostile-targets.js';
import { approve, postJson, proposal, servedHistory, signature, submission, team } from './signing.js';

/**
 * `/resolve` under 10,000 generated malformed or hostile refs: every answer is
 * a 4xx problem+json (or, for the few that happen to be valid, a 200 with a
 * resolution), never a 5xx. Generated from a fixed seed, so a failure names an
 * input that reproduces.
 */

const COUNT = 10_000;
const SEED = 0x5eed_f1a4;
const CHUNK = 250;

interface Outcome {
  readonly status: number;
  readonly failure?: string;
}

async function check(response: Promise<Response>): Promise<Outcome> {
  let res: Response;
  try {
    res = await response;
  } catch (error) {
    return { status: 0, failure: `threw ${String(error)}` };
  }
  const text = await res.text();
  if (res.status >= 500) return { status: res.status, failure: `answered ${res.status}: ${text.slice(0, 500)}` };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {
      status: res.status,
      failure: `answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`,
    };
  }
  const fields = (body ?? {}) as { resolved?: unknown; type?: unknown; status?: unknown };
  if (res.status === 200) {
    return fields.resolved === undefined
      ? { status: 200, failure: `answered 200 without 'resolved': ${text.slice(0, 200)}` }
      : { status: 200 };
  }
  if (res.status < 400) return { status: res.status, failure: `answered ${res.status}` };
  const contentType = res.headers.get('Content-Type');
  if (contentType !== 'application/problem+json') {
    return { status: res.status, failure: `answered ${res.status} as ${String(contentType)}` };
  }
  if (
    typeof fields.type !== 'string' ||
    !fields.type.startsWith('urn:flake-registry:problem:') ||
    fields.status !== res.status
  ) {
    return { status: res.status, failure: `answered ${res.status} with a malformed problem: ${text.slice(0, 200)}` };
  }
  return { status: res.status };
}

describe('GET /resolve with hostile refs', () => {
  const inputs = generate(COUNT, SEED);

  it(
    `answers ${COUNT.toLocaleString('en-US')} generated malformed refs with 4xx problem+json, never a 5xx`,
    { timeout: 180_000 },
    async () => {
      const name = uniqueName('hostile');
      const service = serve([{ name, file: globalRegistry, policy: TEST_POLICY, created: CREATED }]);
      // `registry` comes first: a raw ref with its own `&registry=` must not choose the registry.
      const prefix = `/resolve?registry=${name}&ref=`;
      const failures: string[] = [];
      const tally = { encoded: new Map<number, number>(), raw: new Map<number, number>() };
      let rawSent = 0;
      const count = (map: Map<number, number>, status: number) => map.set(status, (map.get(status) ?? 0) + 1);

      for (let start = 0; start < inputs.length; start += CHUNK) {
        const chunk = inputs.slice(start, start + CHUNK);
        await Promise.all(
          chunk.map(async ({ name: kind, ref }, offset) => {
            const label = `#${start + offset} (${kind}) ${show(ref)}`;
            const encoded = await check(service.fetch(prefix + encodeRef(ref)));
            count(tally.encoded, encoded.status);
            if (encoded.failure !== undefined) failures.push(`${label} percent-encoded: ${encoded.failure}`);
            // Raw: whatever the URL parser makes of it (it escapes controls and spaces, cuts at '#', and
            // the server splits on '&'); a string it refuses is simply not sent this way.
            let url: URL;
            try {
              url = new URL(prefix + ref, 'http://registry.test');
            } catch {
              return;
            }
            rawSent++;
            const raw = await check(service.fetch(url.pathname + url.search));
            count(tally.raw, raw.status);
            if (raw.failure !== undefined) failures.push(`${label} raw: ${raw.failure}`);
          }),
        );
      }

      const in4xx = (map: Map<number, number>) =>
        [...map].reduce((n, [status, k]) => (status >= 400 && status < 500 ? n + k : n), 0);
      const summary = {
        encoded: Object.fromEntries(tally.encoded),
        raw: Object.fromEntries(tally.raw),
        rawSent,
      };
      expect(failures.slice(0, 20), `${failures.length} failures; statuses ${JSON.stringify(summary)}`).toEqual([]);
      // Not a test that passes by resolving everything: nearly all of these must be refused.
      expect(in4xx(tally.encoded), JSON.stringify(summary)).toBeGreaterThanOrEqual(9_000);
      // Raw refs lose what follows '#' or '&', which leaves a valid prefix more often.
      expect(in4xx(tally.raw), JSON.stringify(summary)).toBeGreaterThanOrEqual(rawSent * 0.85);
    },
  );
});

describe('every route with hostile methods, query parameters and conditional headers', () => {
  const COUNT_REQUESTS = 4_000;

  it(
    `answers ${COUNT_REQUESTS.toLocaleString('en-US')} generated requests by the rules, never a 5xx`,
    { timeout: 180_000 },
    async () => {
      const name = uniqueName('hostile');
      const service = serve([{ name, file: globalRegistry, policy: TEST_POLICY, created: CREATED }]);
      const first = await service.fetch(`/registries/${name}/flake-registry.json`);
      await first.arrayBuffer();
      const etags = [first.headers.get('ETag') ?? '""'];
      let next = 0;
      const requests = generateRequests(COUNT_REQUESTS, SEED, name, () => etags[next++ % etags.length] ?? '""');
      const failures: string[] = [];
      const statuses = new Map<number, number>();
      for (let start = 0; start < requests.length; start += CHUNK) {
        await Promise.all(
          requests.slice(start, start + CHUNK).map(async (request, offset) => {
            const label = `#${start + offset} ${request.method} ${request.path.slice(0, 120)} ${JSON.stringify(request.headers)}`;
            let res: Response;
            try {
              res = await service.fetch(request.path, {
                method: request.method,
                headers: request.headers,
                ...(request.body === undefined ? {} : { body: request.body }),
              });
            } catch (error) {
              failures.push(`${label}: threw ${String(error)}`);
              return;
            }
            const body = await res.text();
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            const etag = res.headers.get('ETag');
            if (etag !== null && res.status === 200 && etags.length < 8) etags.push(etag);
            const problem = res.headers.get('Content-Type') === 'application/problem+json';
            if (res.status >= 500) failures.push(`${label}: ${res.status} ${body.slice(0, 300)}`);
            else if (res.status >= 400 && !problem) failures.push(`${label}: ${res.status} is not problem+json`);
            else if (res.status === 405 && res.headers.get('Allow') === null)
              failures.push(`${label}: 405 without Allow`);
            else if (res.status === 304 && !['GET', 'HEAD'].includes(request.method)) {
              failures.push(`${label}: 304 to ${request.method}`);
            } else if (res.status === 204 && request.method !== 'OPTIONS') failures.push(`${label}: 204`);
            else if (request.method === 'HEAD' && body !== '') failures.push(`${label}: HEAD with a body`);
          }),
        );
      }
      const summary = JSON.stringify(Object.fromEntries(statuses));
      expect(failures.slice(0, 20), `${failures.length} failures; statuses ${summary}`).toEqual([]);
      // The generator reaches every kind of answer, so the rules above were exercised.
      for (const status of [200, 304, 400, 404, 405, 412, 415])
        expect(statuses.get(status) ?? 0, summary).toBeGreaterThan(0);
    },
  );
});

const canonicalizable = (p: Proposal): boolean => {
  try {
    proposalBytes(p);
    return true;
  } catch {
    return false;
  }
};

describe('signed write requests nobody planned for', () => {
  const COUNT_WRITES = 1_200;

  it(
    `answers ${COUNT_WRITES.toLocaleString('en-US')} signed submissions and approvals (hostile targets of every type, refused text, late signatures) by the rules, never a 5xx`,
    { timeout: 240_000 },
    async () => {
      const { name, service } = await team();
      const r = mulberry32(SEED);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;
      const targets = hostileTargets();
      // Every refused category, and text that is fine.
      const messages = [
        'fine',
        'a\u061cb',
        'a\u2028b',
        'a\u200bb',
        'a\ufeffb',
        'a\u180eb',
        'a\ufff9b',
        'a\u{e0041}b',
        'a\x1bb',
        'a\ue000b',
        'a\u0378b',
        'ok\n\tnewline',
      ];
      const signers = ['alice', 'bob', 'carol', 'dave'] as const;
      const known: Proposal[] = [];
      const failures: string[] = [];
      const statuses = new Map<number, number>();
      for (let start = 0; start < COUNT_WRITES; start += 50) {
        const batch = Array.from({ length: 50 }, () => {
          if (known.length > 0 && r() < 0.35) {
            // A late or repeated signature, through either route.
            const p = pick(known);
            const signer = pick(signers);
            return r() < 0.5
              ? approve(service, p, signer)
              : (async () => postJson(service, `/registries/${name}/proposals`, await submission(p, [signer])))();
          }
          const id = `t${Math.floor(r() * 40)}`;
          const to = r() < 0.5 ? pick(targets).to : { type: 'github', owner: 'o', repo: id };
          const change: Change =
            r() < 0.1
              ? { op: 'remove', from: { type: 'indirect', id: `missing-${id}` } }
              : { op: 'set', entry: { from: { type: 'indirect', id }, to } };
          const p = proposal(name, 1, [change], { message: r() < 0.25 ? pick(messages) : 'fine' });
          // One that cannot be canonicalized cannot be signed, nor approved later.
          if (canonicalizable(p)) known.push(p);
          const who = r() < 0.5 ? (['alice', 'bob'] as const) : ([pick(signers)] as const);
          return (async () => {
            const signatures = await Promise.all(
              who.map((s) => signature(p, s).catch(() => `${s}:${'A'.repeat(86)}==`)),
            );
            return postJson(service, `/registries/${name}/proposals`, { proposal: p, signatures });
          })();
        });
        for (const res of await Promise.all(batch)) {
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500) failures.push(`${res.status}: ${text.slice(0, 300)}`);
          else if (res.status >= 400 && res.headers.get('Content-Type') !== 'application/problem+json') {
            failures.push(`${res.status} is not problem+json: ${text.slice(0, 200)}`);
          }
        }
      }
      const summary = JSON.stringify(Object.fromEntries(statuses));
      expect(failures.slice(0, 20), `${failures.length} failures; statuses ${summary}`).toEqual([]);
      // Every kind of answer was reached: created, known, refused input, untrusted, not open, unreadable.
      for (const status of [200, 201, 400, 403, 409, 422])
        expect(statuses.get(status) ?? 0, summary).toBeGreaterThan(0);
      // What merged verifies: nothing the hostile requests did broke the history.
      const verified = await verifyHistory(await servedHistory(service, name));
      expect(verified.ok, JSON.stringify(verified)).toBe(true);
    },
  );
});
