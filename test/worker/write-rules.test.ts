import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/protocol/changes.js';
import type { ProposalView } from '../../src/writer/contract.js';
import type { RegistryWriter } from '../../src/writer/writer.js';
import { hostileTargets } from '../support/hostile-targets.js';
import { KEYS } from './fixtures.js';
import {
  approve,
  freshService,
  idOf,
  kvSnapshot,
  postJson,
  proposal,
  signature,
  submission,
  settle,
  submit,
  team,
  writerOf,
} from './signing.js';

interface Problem {
  type: string;
  status: number;
  detail: string;
  [member: string]: unknown;
}

const set = (id: string, owner: string): Change => ({
  op: 'set',
  entry: { from: { type: 'indirect', id }, to: { type: 'github', owner, repo: id } },
});

const problemType = (kind: string) => `urn:flake-registry:problem:${kind}`;

describe('what a client sends never reaches the writer unchecked', () => {
  it('answers every hostile target of every input type with a 4xx naming the change, storing nothing refused', async () => {
    const { name, service } = await team();
    const before = await kvSnapshot(name);
    const statuses = new Map<number, number>();
    let accepted = 0;
    for (const { label, to } of hostileTargets()) {
      const change = { op: 'set', entry: { from: { type: 'indirect', id: 'tool' }, to } } as Change;
      const p = proposal(name, 1, [change], { message: 'hostile target' });
      // What cannot be canonicalized cannot be signed either: it must be refused before any signature counts.
      const signed = await signature(p, 'alice').catch(() => `alice:${'A'.repeat(86)}==`);
      const res = await postJson(service, `/registries/${name}/proposals`, { proposal: p, signatures: [signed] });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 201) {
        accepted++;
        await res.arrayBuffer();
        continue;
      }
      expect(res.status, label).toBeGreaterThanOrEqual(400);
      expect(res.status, label).toBeLessThan(500);
      const body = await res.json<
        Problem & { errors?: { path: string }[]; change?: number; findings?: { from: string }[] }
      >();
      // Named: the schema's path to the change, or the change's index.
      const named =
        body.errors?.some((e) => e.path.startsWith('proposal.changes.0')) === true ||
        body.change === 0 ||
        body.findings?.some((f) => f.from === 'flake:tool') === true;
      expect(named, `${label}: ${JSON.stringify(body)}`).toBe(true);
    }
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    // Only what was accepted is stored: open proposals, and no version.
    const listing = await (
      await service.fetch(`/registries/${name}/proposals?limit=100`)
    ).json<{ proposals: unknown[] }>();
    expect(listing.proposals.length).toBe(Math.min(accepted, 100));
    expect(await kvSnapshot(name)).toEqual(before);
  }, 60_000);

  it('answers a failure inside the writer as a 500 bug, not as storage trouble to retry, and stores nothing', async () => {
    const { name, service } = await team();
    const before = await kvSnapshot(name);
    await runInDurableObject(writerOf(name), (writer) => {
      (writer as unknown as { submitAt: () => never }).submitAt = () => {
        throw new Error('a bug in a review');
      };
    });
    const res = await submit(service, proposal(name, 1, [set('tool', 'acme')]), ['alice']);
    expect(res.status).toBe(500);
    expect(res.headers.get('Retry-After')).toBeNull();
    const body = await res.json<Problem>();
    expect(body.type).toBe(problemType('internal'));
    expect(body.detail).not.toContain('a bug in a review');
    expect(await kvSnapshot(name)).toEqual(before);
  });
});

describe('a fully signed proposal merges, or says why it cannot', () => {
  it('closes a proposal that reaches its thresholds only after its expiry as failed, with the reason', async () => {
    const { name } = await team();
    const stub = writerOf(name);
    const now = Date.now();
    const p = proposal(name, 1, [set('tool', 'acme')], { created: now, expires: now + 60_000 });
    await runInDurableObject(stub, async (w) => {
      const writer = w as RegistryWriter;
      // A merge dated two minutes ahead (the writer's clock ran ahead once, then was set
      // back): p, open for one minute, can no longer get a version time before it expires.
      const other = proposal(name, 1, [set('other', 'acme')], { created: now, expires: now + 600_000 });
      const merged = await writer.submitAt(now + 120_000, other, [
        await signature(other, 'alice'),
        await signature(other, 'bob'),
      ]);
      expect(merged.ok && merged.view.status).toBe('merged');
      expect((await writer.submitAt(now, p, [await signature(p, 'alice')])).ok).toBe(true);
      const late = await writer.approveAt(now + 1_000, idOf(p), await signature(p, 'bob'));
      expect(late.ok ? late.view : late.problem).toMatchObject({
        status: 'failed',
        approvals: { policy: { have: 2, need: 2 } },
        outcome: { reason: 'expired' },
      });
    });
  });

  it('merges an open proposal at once when a policy change lowers the threshold it already meets', async () => {
    const { name, service } = await team({
      keys: [KEYS.alice.public, KEYS.bob.public, KEYS.carol.public],
      threshold: 3,
    });
    const waiting = proposal(name, 1, [set('tool', 'acme')]);
    expect((await submit(service, waiting, ['alice', 'bob'])).status).toBe(201);
    const lower = proposal(name, 1, [
      { op: 'policy', policy: { keys: [KEYS.alice.public, KEYS.bob.public, KEYS.carol.public], threshold: 2 } },
    ]);
    const res = await submit(service, lower, ['alice', 'bob', 'carol']);
    expect(await res.json<ProposalView>()).toMatchObject({ status: 'merged', version: 2 });
    const view = await (await service.fetch(`/registries/${name}/proposals/${idOf(waiting)}`)).json<ProposalView>();
    expect(view).toMatchObject({ status: 'merged', version: 3, approvals: { missing: 0 } });
  });
});

describe('reviews tell the truth', () => {
  it('counts a merged proposal against the policy that merged it, after a rotation', async () => {
    const { name, service } = await team();
    const p = proposal(name, 1, [set('tool', 'acme')]);
    expect((await submit(service, p, ['alice', 'bob'])).status).toBe(201);
    const rotate = proposal(name, 2, [
      { op: 'policy', policy: { keys: [KEYS.carol.public, KEYS.dave.public], threshold: 2 } },
    ]);
    expect((await submit(service, rotate, ['alice', 'bob', 'carol'])).status).toBe(201);
    expect((await approve(service, rotate, 'dave')).status).toBe(200);
    const view = await (await service.fetch(`/registries/${name}/proposals/${idOf(p)}`)).json<ProposalView>();
    expect(view.approvals.policy).toMatchObject({ have: 2, need: 2, signers: ['alice', 'bob'], since: 1 });
  });

  it('shows both thresholds of a policy change, the exact shortfall, and who can still sign', async () => {
    const { name, service } = await team();
    // In force: alice, bob, carol, 2 of them. New: carol and dave, both.
    const rotate = proposal(name, 1, [
      { op: 'policy', policy: { keys: [KEYS.carol.public, KEYS.dave.public], threshold: 2 } },
    ]);
    const res = await submit(service, rotate, ['alice']);
    const view = await res.json<ProposalView>();
    expect(view.approvals.policy).toMatchObject({ have: 1, need: 2, remaining: ['bob', 'carol'] });
    expect(view.approvals.newPolicy).toMatchObject({ have: 0, need: 2, remaining: ['carol', 'dave'] });
    // carol counts for both; dave is still needed for the new one.
    expect(view.approvals.missing).toBe(2);
  });

  it('lists the keys a policy change adds and removes, and the threshold before and after', async () => {
    const { name, service } = await team();
    const rotate = proposal(name, 1, [
      { op: 'policy', policy: { keys: [KEYS.alice.public, KEYS.dave.public], threshold: 1 } },
    ]);
    const view = await (await submit(service, rotate, ['alice'])).json<ProposalView>();
    expect(view.review.policy).toEqual({
      threshold: { from: 2, to: 1 },
      added: [KEYS.dave.public],
      removed: [KEYS.bob.public, KEYS.carol.public],
      renamed: [],
    });
  });

  it('tells a key that a rotation removed since which version it is no longer trusted', async () => {
    const { name, service } = await team();
    const rotate = proposal(name, 1, [
      { op: 'policy', policy: { keys: [KEYS.alice.public, KEYS.bob.public], threshold: 2 } },
    ]);
    expect((await submit(service, rotate, ['alice', 'bob'])).status).toBe(201);
    const res = await submit(service, proposal(name, 2, [set('tool', 'acme')]), ['carol']);
    expect(res.status).toBe(403);
    const body = await res.json<Problem>();
    expect(body).toMatchObject({ type: problemType('untrusted-key'), removedBy: 2, name: 'carol' });
    expect(body.detail).toContain('version 2');
  });

  it('takes a late signature by one rule through both routes: one already counted is the same request, any other is refused', async () => {
    const { name, service } = await team();
    const p = proposal(name, 1, [set('tool', 'acme')]);
    expect((await submit(service, p, ['alice', 'bob'])).status).toBe(201);
    const again = await postJson(service, `/registries/${name}/proposals`, await submission(p, ['alice', 'bob']));
    expect(again.status, await again.clone().text()).toBe(200);
    expect(await again.json<ProposalView>()).toMatchObject({ status: 'merged' });
    const counted = await approve(service, p, 'bob');
    expect(counted.status).toBe(200);
    await counted.arrayBuffer();
    for (const late of [
      await postJson(service, `/registries/${name}/proposals`, await submission(p, ['carol'])),
      await approve(service, p, 'carol'),
    ]) {
      expect(late.status).toBe(409);
      expect(await late.json()).toMatchObject({ type: problemType('not-open'), proposalStatus: 'merged' });
    }
  });
});

describe('text a reviewer can trust', () => {
  // One character of every category the rule refuses, and the ones the trial found.
  const refused: readonly [string, string][] = [
    ['U+061C', '\u061c'],
    ['U+2028', '\u2028'],
    ['U+2029', '\u2029'],
    ['U+200B', '\u200b'],
    ['U+FEFF', '\ufeff'],
    ['U+180E', '\u180e'],
    ['U+FFF9', '\ufff9'],
    ['U+E0041', '\u{e0041}'],
    ['U+202E', '\u202e'],
    ['U+001B', '\x1b'],
    ['U+000D', '\r'],
    ['U+E000', '\ue000'],
    ['U+0378', '\u0378'],
    ['U+034F', '\u034f'],
    ['U+3164', '\u3164'],
    ['U+115F', '\u115f'],
    ['U+FE00', '\ufe00'],
    ['U+E0100', '\u{e0100}'],
    ['U+17B4', '\u17b4'],
    ['U+2800', '\u2800'],
    ['U+0301', '\u0301'.repeat(40)],
  ];

  it.each(refused)('refuses a message holding %s, naming it by code point', async (code, ch) => {
    const { name, service } = await team();
    const res = await submit(service, proposal(name, 1, [set('tool', 'acme')], { message: `fix ${ch} it` }), ['alice']);
    expect(res.status).toBe(400);
    const body = await res.json<Problem & { errors: { path: string; message: string }[] }>();
    expect(body.errors[0]).toMatchObject({ path: 'proposal.message' });
    expect(body.errors[0]?.message).toContain(code);
  });

  it('takes newlines, tabs and every visible script in a message', async () => {
    const { name, service } = await team();
    const res = await submit(
      service,
      proposal(name, 1, [set('tool', 'acme')], { message: 'Add tool\n\t— für die Werkzeuge, 工具, أداة ✓' }),
      ['alice'],
    );
    expect(res.status).toBe(201);
  });

  it.each([
    ['U+202E', '\u202e'],
    ['U+200B', '\u200b'],
    ['U+00A0', '\u00a0'],
    ['U+FE00', '\ufe00'],
    ['U+3164', '\u3164'],
  ])('refuses a signature whose name holds %s', async (code, ch) => {
    const { name, service } = await team();
    const p = proposal(name, 1, [set('tool', 'acme')]);
    const text = (await signature(p, 'alice')).replace(/^alice:/, `${ch}alice:`);
    const res = await postJson(service, `/registries/${name}/proposals`, { proposal: p, signatures: [text] });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain(code);
  });

  it.each([
    ['a bidi override', 'dave\u202e', 'U+202E'],
    ['a variation selector that makes it look like another key', 'carol\ufe00', 'U+FE00'],
  ])('refuses a policy change that names a key with %s', async (_, keyName, code) => {
    const { name, service } = await team();
    const evil = KEYS.dave.public.replace(/^dave:/, `${keyName}:`);
    const res = await submit(
      service,
      proposal(name, 1, [{ op: 'policy', policy: { keys: [KEYS.alice.public, evil], threshold: 1 } }]),
      ['alice'],
    );
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain(code);
  });

  it('refuses a body declared in another charset than UTF-8', async () => {
    const { name, service } = await team();
    const p = proposal(name, 1, [set('tool', 'acme')]);
    const res = await service.fetch(`/registries/${name}/proposals`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=latin1' },
      body: JSON.stringify(await submission(p, ['alice'])),
    });
    expect(res.status).toBe(415);
    expect((await res.json<Problem>()).detail).toContain('latin1');
  });
});

describe('dates that cannot tell two versions apart', () => {
  it('never answers 304 to a date alone when the latest version shares its second with the one before', async () => {
    const { name } = await team();
    const stub = writerOf(name);
    const at = Date.parse('2026-06-01T10:00:00.100Z');
    await runInDurableObject(stub, async (w) => {
      const writer = w as RegistryWriter;
      for (const [i, id] of ['one', 'two'].entries()) {
        const p = proposal(name, 1 + i, [set(id, 'acme')], { created: at - 1000, expires: at + 86_400_000 });
        const merged = await writer.submitAt(at + i * 100, p, [await signature(p, 'alice'), await signature(p, 'bob')]);
        expect(merged.ok && merged.view.status).toBe('merged');
      }
    });
    await settle(name);
    const fresh = freshService(name);
    const latest = `/registries/${name}/flake-registry.json`;
    const res = await fresh.fetch(latest);
    await res.arrayBuffer();
    expect(res.headers.get('X-Registry-Version')).toBe('3');
    const lastModified = res.headers.get('Last-Modified') ?? '';
    expect(lastModified).toBe('Mon, 01 Jun 2026 10:00:00 GMT');
    // A client holding version 2 has the same Last-Modified: a date proves nothing here.
    const byDate = await fresh.fetch(latest, { headers: { 'If-Modified-Since': lastModified } });
    expect(byDate.status).toBe(200);
    await byDate.arrayBuffer();
    const unmodified = await fresh.fetch(latest, { headers: { 'If-Unmodified-Since': lastModified } });
    expect(unmodified.status).toBe(412);
    await unmodified.arrayBuffer();
    // The ETag still does, and each version's own URL keeps its date.
    const byTag = await fresh.fetch(latest, { headers: { 'If-None-Match': res.headers.get('ETag') ?? '' } });
    expect(byTag.status).toBe(304);
    const pinned = await fresh.fetch(`/registries/${name}/versions/3/flake-registry.json`, {
      headers: { 'If-Modified-Since': lastModified },
    });
    expect(pinned.status).toBe(304);
  });
});

describe('requests refused before any route', () => {
  it('refuses a URL longer than the platform takes with a 414 problem, CORS headers included', async () => {
    const { service } = await team();
    const res = await service.fetch(`/resolve?ref=${'a'.repeat(17_000)}`);
    expect(res.status).toBe(414);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect((await res.json<Problem>()).type).toBe(problemType('uri-too-long'));
  });
});

describe('a policy change that brings many proposals to their thresholds', () => {
  it('settles a first batch at once and the rest from the alarm, a batch per transaction', async () => {
    const { name, service } = await team({
      keys: [KEYS.alice.public, KEYS.bob.public, KEYS.carol.public],
      threshold: 3,
    });
    const waiting = Array.from({ length: 40 }, (_, i) => proposal(name, 1, [set(`w${i}`, 'acme')]));
    for (const p of waiting) expect((await submit(service, p, ['alice', 'bob'])).status).toBe(201);
    const lower = proposal(name, 1, [
      { op: 'policy', policy: { keys: [KEYS.alice.public, KEYS.bob.public, KEYS.carol.public], threshold: 2 } },
    ]);
    expect(await (await submit(service, lower, ['alice', 'bob', 'carol'])).json<ProposalView>()).toMatchObject({
      status: 'merged',
    });
    const open = async () =>
      (
        await (
          await service.fetch(`/registries/${name}/proposals?status=open&limit=100`)
        ).json<{ proposals: unknown[] }>()
      ).proposals.length;
    const left = await open();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(40);
    await runDurableObjectAlarm(writerOf(name));
    expect(await open()).toBe(0);
  });

  it('answers a retry by a key the merged rotation removed with what the proposal became', async () => {
    const { name, service } = await team();
    const rotate = proposal(name, 1, [
      { op: 'policy', policy: { keys: [KEYS.alice.public, KEYS.carol.public], threshold: 2 } },
    ]);
    const first = await submission(rotate, ['alice', 'bob', 'carol']);
    expect((await postJson(service, `/registries/${name}/proposals`, first)).status).toBe(201);
    // bob's own signature, sent again: the same request, though the policy now leaves bob out.
    const again = await postJson(service, `/registries/${name}/proposals`, {
      proposal: rotate,
      signatures: [first.signatures[1]],
    });
    expect(again.status, await again.clone().text()).toBe(200);
    const view = await again.json<ProposalView>();
    expect(view.status).toBe('merged');
    const approval = await postJson(service, `/registries/${name}/proposals/${idOf(rotate)}/approvals`, {
      signature: first.signatures[1],
    });
    expect(approval.status).toBe(200);
    await approval.arrayBuffer();
  });

  it('shows which signatures no longer count after a rotation removed their key', async () => {
    const { name, service } = await team();
    const p = proposal(name, 1, [set('tool', 'acme')]);
    expect((await submit(service, p, ['bob'])).status).toBe(201);
    const rotate = proposal(name, 1, [
      { op: 'policy', policy: { keys: [KEYS.alice.public, KEYS.carol.public], threshold: 2 } },
    ]);
    expect((await submit(service, rotate, ['alice', 'bob', 'carol'])).status).toBe(201);
    const view = await (await service.fetch(`/registries/${name}/proposals/${idOf(p)}`)).json<ProposalView>();
    expect(view.signatures.map((s) => [s.key.split(':')[0], s.counted])).toEqual([['bob', false]]);
    expect(view.approvals.policy).toMatchObject({ have: 0, need: 2 });
  });
});
