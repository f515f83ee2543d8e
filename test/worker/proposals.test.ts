import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/protocol/changes.js';
import { kvKeys } from '../../src/store/layout.js';
import type { ProposalView } from '../../src/writer/contract.js';
import type { RegistryWriter } from '../../src/writer/writer.js';
import { KEYS, TEST_POLICY, teamRegistry } from './fixtures.js';
import type { TestService } from './helpers.js';
import {
  approve,
  idOf,
  kvSnapshot,
  postJson,
  proposal,
  signature as sig,
  submission as submissionOf,
  submit,
  writerOf,
  settle,
  team,
} from './signing.js';

interface Problem {
  type: string;
  detail: string;
}

const set = (
  id: string,
  owner: string,
  position?: Change & { op: 'set' } extends { position?: infer P } ? P : never,
): Change => ({
  op: 'set',
  entry: { from: { type: 'indirect', id }, to: { type: 'github', owner, repo: id } },
  ...(position === undefined ? {} : { position }),
});

const latestFile = async (service: TestService, name: string) =>
  (await service.fetch(`/registries/${name}/flake-registry.json`)).text();

const flakesOf = (text: string) => (JSON.parse(text) as { flakes: { from: { id: string } }[] }).flakes;

async function resolved(service: TestService, name: string, ref: string): Promise<string> {
  const res = await service.fetch(`/resolve?ref=${encodeURIComponent(ref)}&registry=${name}`);
  return (await res.json<{ resolved: { url: string } }>()).resolved.url;
}

describe('signed proposals', () => {
  it('keeps a proposal open below the threshold and merges it when a second trusted key approves', async () => {
    const { name, service } = await team();
    const before = await kvSnapshot(name);
    const p = proposal(name, 1, [set('tool', 'acme')]);
    const created = await submit(service, p, ['alice']);
    expect(created.status).toBe(201);
    expect(created.headers.get('Location')).toBe(`/registries/${name}/proposals/${idOf(p)}`);
    const open = await created.json<ProposalView>();
    expect(open).toMatchObject({
      id: idOf(p),
      status: 'open',
      approvals: { missing: 1, policy: { have: 1, need: 2 } },
    });
    expect(open.review.changes.added).toEqual(['flake:tool']);
    expect(open.review.impact.map((l) => l.text)).toContain(
      "tool: error: cannot find flake 'flake:tool' in the flake registries -> github:acme/tool",
    );
    await settle(name);
    expect(await kvSnapshot(name)).toEqual(before);

    const approved = await approve(service, p, 'bob');
    expect(approved.status).toBe(200);
    expect(await approved.json<ProposalView>()).toMatchObject({
      status: 'merged',
      version: 2,
      approvals: { missing: 0 },
    });
    // The isolate that answered serves the new version at once.
    expect(await resolved(service, name, 'tool')).toBe('github:acme/tool');
    const file = await latestFile(service, name);
    expect(flakesOf(file).at(-1)).toEqual({
      from: { id: 'tool', type: 'indirect' },
      to: { owner: 'acme', repo: 'tool', type: 'github' },
    });
    await settle(name);
    expect(await env.REGISTRY_KV.get(kvKeys.versionFile(name, 2))).toBe(file);
    expect(await env.REGISTRY_KV.get(kvKeys.head(name), 'json')).toMatchObject({ version: 2 });
    const record = await env.REGISTRY_KV.get<{ source: { id: string; signatures: string[] } }>(
      kvKeys.versionRecord(name, 2),
      'json',
    );
    expect(record?.source.id).toBe(idOf(p));
    expect(record?.source.signatures).toHaveLength(2);
  });

  it('merges at once when the submission carries the threshold', async () => {
    const { name, service } = await team();
    const res = await submit(service, proposal(name, 1, [set('tool', 'acme')]), ['alice', 'carol']);
    expect(res.status).toBe(201);
    expect(await res.json<ProposalView>()).toMatchObject({ status: 'merged', version: 2 });
  });

  it('counts a key once, whatever name it signs under', async () => {
    const { name, service } = await team();
    const p = proposal(name, 1, [set('tool', 'acme')]);
    expect((await submit(service, p, ['alice'])).status).toBe(201);
    const again = await approve(service, p, 'alice', 'alice-laptop');
    expect(again.status).toBe(200);
    expect(await again.json<ProposalView>()).toMatchObject({ status: 'open', approvals: { missing: 1 } });
  });

  it('answers the same proposal again with 200 and what exists, creating nothing', async () => {
    const { name, service } = await team();
    const p = proposal(name, 1, [set('tool', 'acme')]);
    expect((await submit(service, p, ['alice', 'bob'])).status).toBe(201);
    await settle(name);
    const before = await kvSnapshot(name);
    const replay = await submit(service, p, ['alice', 'bob']);
    expect(replay.status).toBe(200);
    expect(await replay.json<ProposalView>()).toMatchObject({ id: idOf(p), status: 'merged', version: 2 });
    await settle(name);
    expect(await kvSnapshot(name)).toEqual(before);
  });

  it('merges a proposal on an older base when the entries it touches did not change since', async () => {
    const { name, service } = await team();
    expect((await submit(service, proposal(name, 1, [set('one', 'acme')]), ['alice', 'bob'])).status).toBe(201);
    const stale = await submit(service, proposal(name, 1, [{ op: 'remove', from: { type: 'indirect', id: 'p' } }]), [
      'alice',
      'bob',
    ]);
    expect(stale.status).toBe(201);
    expect(await stale.json<ProposalView>()).toMatchObject({
      status: 'merged',
      version: 3,
      review: { base: { version: 1, changes: { removed: ['flake:p'] } }, head: 2, changes: { removed: ['flake:p'] } },
    });
    const flakes = flakesOf(await latestFile(service, name));
    expect(flakes.map((f) => f.from.id)).toContain('one');
    expect(flakes.map((f) => f.from.id)).not.toContain('p');
  });

  it('refuses a proposal on an older base that touches an entry changed since, and marks an open one conflict', async () => {
    const { name, service } = await team();
    const first = proposal(name, 1, [set('a', 'first')]);
    const second = proposal(name, 1, [set('a', 'second')]);
    expect((await submit(service, second, ['alice'])).status).toBe(201);
    expect((await submit(service, first, ['alice', 'bob'])).status).toBe(201);
    const third = await submit(service, proposal(name, 1, [set('a', 'third')]), ['alice', 'bob']);
    expect(third.status).toBe(409);
    expect((await third.json<Problem & { entries: string[] }>()).entries).toEqual(['flake:a']);
    const late = await approve(service, second, 'bob');
    expect(late.status).toBe(200);
    expect(await late.json<ProposalView>()).toMatchObject({ status: 'conflict', outcome: { entries: ['flake:a'] } });
    expect(await resolved(service, name, 'a')).toBe('github:first/a');
  });

  it('never merges after expiry, and open proposals that expire leave storage', async () => {
    const { name, service } = await team();
    const past = proposal(name, 1, [set('tool', 'acme')], {
      created: Date.now() - 7200_000,
      expires: Date.now() - 3600_000,
    });
    const refused = await submit(service, past, ['alice', 'bob']);
    expect(refused.status).toBe(422);
    expect((await refused.json<Problem>()).type).toBe('urn:flake-registry:problem:expired');

    const p = proposal(name, 1, [set('tool', 'acme')]);
    expect((await submit(service, p, ['alice'])).status).toBe(201);
    // The writer has set its alarm for the expiry, so the proposal leaves even if nobody calls.
    const alarm = await runInDurableObject(writerOf(name), (_, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm ?? Infinity).toBeLessThanOrEqual(Date.parse(p.expires));
    // The writer's clock, a moment after the expiry: no waiting.
    await runInDurableObject(writerOf(name), async (writer) => {
      await (writer as RegistryWriter).maintain(Date.parse(p.expires) + 1);
    });
    const gone = await service.fetch(`/registries/${name}/proposals/${idOf(p)}`);
    expect(gone.status).toBe(404);
    const late = await approve(service, p, 'bob');
    expect(late.status).toBe(404);
    expect(await service.fetch(`/registries/${name}/versions/2`).then((r) => r.status)).toBe(404);
  });

  it('changes the policy only with the threshold of the policy in force and of the new one', async () => {
    const { name, service } = await team();
    const next = { keys: [KEYS.alice.public, KEYS.dave.public], threshold: 2 };
    const p = proposal(name, 1, [{ op: 'policy', policy: next }]);
    const res = await submit(service, p, ['alice', 'bob']);
    expect(res.status).toBe(201);
    // Two of the policy in force signed, but only one of the new policy's keys.
    expect(await res.json<ProposalView>()).toMatchObject({
      status: 'open',
      approvals: { policy: { have: 2, need: 2 }, newPolicy: { have: 1, need: 2 }, missing: 1 },
    });
    const merged = await approve(service, p, 'dave');
    expect(await merged.json<ProposalView>()).toMatchObject({ status: 'merged', version: 2 });
    const policy = await (await service.fetch(`/registries/${name}/policy`)).json<{ keys: string[]; since: number }>();
    expect(policy).toMatchObject({ keys: next.keys, threshold: 2, since: 2 });
    // bob is no longer trusted; dave now is.
    const byBob = await submit(service, proposal(name, 2, [set('tool', 'acme')]), ['bob']);
    expect(byBob.status).toBe(403);
    expect((await submit(service, proposal(name, 2, [set('tool', 'acme')]), ['dave'])).status).toBe(201);
  });

  it('shows a proposal with its review and lists proposals by status', async () => {
    const { name, service } = await team();
    const p = proposal(name, 1, [set('nixpkgs', 'me')]);
    expect((await submit(service, p, ['alice'])).status).toBe(201);
    const view = await (await service.fetch(`/registries/${name}/proposals/${idOf(p)}`)).json<ProposalView>();
    expect(view.review.impact.find((l) => l.ref === 'flake:nixpkgs')?.text).toBe(
      'nixpkgs: github:NixOS/nixpkgs/nixpkgs-unstable -> github:me/nixpkgs',
    );
    const open = await (
      await service.fetch(`/registries/${name}/proposals?status=open`)
    ).json<{ proposals: ProposalView[] }>();
    expect(open.proposals.map((v) => v.id)).toEqual([idOf(p)]);
    const merged = await (
      await service.fetch(`/registries/${name}/proposals?status=merged`)
    ).json<{ proposals: ProposalView[] }>();
    expect(merged.proposals).toEqual([]);
  });
});

describe('rules found by trying to break it', () => {
  it('records each signature under the name the policy gives its key, whatever name it came with', async () => {
    const { name, service } = await team();
    const p = proposal(name, 1, [set('tool', 'acme')]);
    const res = await postJson(service, `/registries/${name}/proposals`, {
      proposal: p,
      signatures: [await sig(p, 'alice', 'bob'), await sig(p, 'bob', 'mallory')],
    });
    expect(await res.json<ProposalView>()).toMatchObject({ status: 'merged', version: 2 });
    const record = await (
      await service.fetch(`/registries/${name}/versions/2`)
    ).json<{ source: { signatures: string[] } }>();
    expect(record.source.signatures.map((s) => s.split(':')[0]).sort()).toEqual(['alice', 'bob']);
    expect(record.source.signatures).toContain(await sig(p, 'alice'));
  });

  it('orders version times by the millisecond, never ahead of the clock, for merges in the same second', async () => {
    const { name, service } = await team();
    const start = Date.now();
    for (const id of ['one', 'two', 'three']) {
      expect((await submit(service, proposal(name, 1, [set(id, 'acme')]), ['alice', 'bob'])).status).toBe(201);
    }
    const end = Date.now();
    const times = await Promise.all(
      [2, 3, 4].map(
        async (n) =>
          (await (await service.fetch(`/registries/${name}/versions/${n}`)).json<{ created: string }>()).created,
      ),
    );
    const ms = times.map((t) => Date.parse(t));
    expect(ms[0]).toBeGreaterThanOrEqual(start);
    expect(ms[1]).toBeGreaterThan(ms[0] as number);
    expect(ms[2]).toBeGreaterThan(ms[1] as number);
    expect(ms[2]).toBeLessThanOrEqual(end);
  });

  it('keeps the numeric status of a problem when refusing an approval of a merged proposal', async () => {
    const { name, service } = await team();
    const p = proposal(name, 1, [set('tool', 'acme')]);
    expect((await submit(service, p, ['alice', 'bob'])).status).toBe(201);
    const late = await approve(service, p, 'carol');
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({
      status: 409,
      proposalStatus: 'merged',
      type: 'urn:flake-registry:problem:not-open',
    });
  });

  it('refuses a proposal that changes nothing', async () => {
    const { name, service } = await team();
    const same: Change = {
      op: 'set',
      entry: { from: { type: 'indirect', id: 'a' }, to: { type: 'git', url: 'file:///srv/a' } },
    };
    const res = await submit(service, proposal(name, 1, [same]), ['alice', 'bob']);
    expect(res.status).toBe(422);
    expect((await res.json<Problem>()).type).toBe('urn:flake-registry:problem:no-change');
    const samePolicy = await submit(service, proposal(name, 1, [{ op: 'policy', policy: TEST_POLICY }]), [
      'alice',
      'bob',
    ]);
    expect(samePolicy.status).toBe(422);
  });

  it('marks a policy change conflict when another policy change merged after its base', async () => {
    const { name, service } = await team();
    const first = proposal(name, 1, [
      { op: 'policy', policy: { keys: [KEYS.alice.public, KEYS.bob.public], threshold: 2 } },
    ]);
    const second = proposal(name, 1, [
      { op: 'policy', policy: { keys: [KEYS.alice.public, KEYS.carol.public], threshold: 2 } },
    ]);
    expect((await submit(service, second, ['alice'])).status).toBe(201);
    expect(await (await submit(service, first, ['alice', 'bob'])).json<ProposalView>()).toMatchObject({
      status: 'merged',
    });
    // Marked when the other policy change merged, not only when its own threshold is met.
    const now = await service.fetch(`/registries/${name}/proposals/${idOf(second)}`);
    expect(await now.json<ProposalView>()).toMatchObject({ status: 'conflict' });
    const late = await approve(service, second, 'carol');
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ proposalStatus: 'conflict' });
  });
});

describe('large proposals', () => {
  it('stores and merges 6,000 changes (a body of about 700 KB), and lists proposals as summaries', async () => {
    const { name, service } = await team();
    const changes = Array.from({ length: 6_000 }, (_, i) => set(`bulk-${i}`, 'acme'));
    const p = proposal(name, 1, changes);
    const res = await submit(service, p, ['alice']);
    expect(res.status).toBe(201);
    const view = await res.json<ProposalView>();
    expect(view.review.changes.added).toHaveLength(6_000);
    expect(view.review.impact.length).toBeLessThanOrEqual(500);
    expect(view.review.impactOmitted).toBeGreaterThan(0);
    const listing = await (await service.fetch(`/registries/${name}/proposals`)).json<{ proposals: object[] }>();
    expect(listing.proposals).toEqual([
      expect.objectContaining({ id: idOf(p), status: 'open', signatures: 1, message: p.message }) as unknown,
    ]);
    expect(await (await approve(service, p, 'bob')).json<ProposalView>()).toMatchObject({
      status: 'merged',
      version: 2,
    });
    const latest = await service.fetch(`/registries/${name}/flake-registry.json`);
    expect((JSON.parse(await latest.text()) as { flakes: unknown[] }).flakes).toHaveLength(
      teamRegistry.flakes.length + 6_000,
    );
  }, 30_000);
});

describe('bad input to the write routes changes nothing', () => {
  const cases: [string, (name: string) => Promise<{ path?: string; init: RequestInit }>, number, string][] = [
    ['a body that is not JSON', () => Promise.resolve({ init: json('{"proposal":') }), 400, 'invalid-json'],
    [
      'the wrong content type',
      async (name) => ({
        init: {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: JSON.stringify(await body(name, ['alice', 'bob'])),
        },
      }),
      415,
      'unsupported-media-type',
    ],
    [
      'a body over 1 MiB',
      () => Promise.resolve({ init: json(`{"x":"${'a'.repeat(1024 * 1024)}"}`) }),
      413,
      'payload-too-large',
    ],
    [
      'an unknown field',
      async (name) => ({ init: json(JSON.stringify({ ...(await body(name, ['alice', 'bob'])), extra: 1 })) }),
      400,
      'invalid-proposal',
    ],
    [
      'an unknown field inside the signed proposal',
      async (name) => {
        const b = await body(name, ['alice', 'bob']);
        return { init: json(JSON.stringify({ ...b, proposal: { ...b.proposal, note: 'x' } })) };
      },
      400,
      'invalid-proposal',
    ],
    [
      'a key the policy does not trust',
      async (name) => ({ init: json(JSON.stringify(await body(name, ['dave']))) }),
      403,
      'untrusted-key',
    ],
    [
      'signatures meeting the threshold beside one by a key the policy does not trust',
      async (name) => ({ init: json(JSON.stringify(await body(name, ['alice', 'bob', 'dave']))) }),
      403,
      'untrusted-key',
    ],
    [
      'a malformed signature',
      async (name) => {
        const b = await body(name, ['alice']);
        return { init: json(JSON.stringify({ ...b, signatures: ['alice:bm90IGEgc2lnbmF0dXJl'] })) };
      },
      400,
      'malformed-signature',
    ],
    [
      'a tampered body',
      async (name) => {
        const b = await body(name, ['alice', 'bob']);
        return { init: json(JSON.stringify({ ...b, proposal: { ...b.proposal, message: 'something else' } })) };
      },
      403,
      'bad-signature',
    ],
    [
      'a proposal for another registry',
      async (name) => ({ init: json(JSON.stringify(await body(`${name}-other`, ['alice', 'bob']))) }),
      400,
      'wrong-registry',
    ],
    [
      'an expired proposal',
      async (name) => {
        const p = proposal(name, 1, [set('tool', 'acme')], { created: Date.now() - 7200_000, expires: Date.now() - 1 });
        return { init: json(JSON.stringify(await submissionOf(p, ['alice', 'bob']))) };
      },
      422,
      'expired',
    ],
    [
      'one key twice under two names',
      async (name) => {
        const p = proposal(name, 1, [set('tool', 'acme')]);
        const sigs = [await sig(p, 'alice'), await sig(p, 'alice', 'alice-2')];
        return { init: json(JSON.stringify({ proposal: p, signatures: sigs })) };
      },
      400,
      'duplicate-signer',
    ],
    [
      'a base that is not a version yet',
      async (name) => ({
        init: json(JSON.stringify(await submissionOf(proposal(name, 7, [set('tool', 'acme')]), ['alice', 'bob']))),
      }),
      422,
      'unknown-base',
    ],
    [
      'a change to an entry that does not exist',
      async (name) => ({
        init: json(
          JSON.stringify(
            await submissionOf(proposal(name, 1, [{ op: 'remove', from: { type: 'indirect', id: 'nope' } }]), [
              'alice',
              'bob',
            ]),
          ),
        ),
      }),
      422,
      'invalid-change',
    ],
    [
      'an entry Nix would not read',
      async (name) => {
        const bad: Change = {
          op: 'set',
          entry: { from: { type: 'indirect', id: 'x' }, to: { type: 'github', owner: 'o' } },
        };
        return { init: json(JSON.stringify(await submissionOf(proposal(name, 1, [bad]), ['alice', 'bob']))) };
      },
      400,
      'invalid-proposal',
    ],
    [
      'a change that makes a cycle',
      async (name) => {
        const loop: Change = {
          op: 'set',
          entry: { from: { type: 'indirect', id: 'a' }, to: { type: 'indirect', id: 'chain' } },
        };
        return { init: json(JSON.stringify(await submissionOf(proposal(name, 1, [loop]), ['alice', 'bob']))) };
      },
      422,
      'lint-failed',
    ],
    [
      'a tarball target Nix cannot fetch (a javascript: URL)',
      async (name) => {
        const script: Change = {
          op: 'set',
          entry: {
            from: { type: 'indirect', id: 'x' },
            to: { type: 'tarball', url: 'javascript:alert(1)' },
            exact: true,
          },
        };
        return { init: json(JSON.stringify(await submissionOf(proposal(name, 1, [script]), ['alice', 'bob']))) };
      },
      422,
      'lint-failed',
    ],
    [
      'a message that canonical JSON cannot hold (a lone surrogate)',
      (name) => {
        const p = { ...proposal(name, 1, [set('tool', 'acme')]), message: 'fix \ud800' };
        return Promise.resolve({
          init: json(JSON.stringify({ proposal: p, signatures: [`alice:${'A'.repeat(86)}==`] })),
        });
      },
      400,
      'invalid-proposal',
    ],
    [
      'a message with a terminal escape, which could hide the review from a signer',
      async (name) => {
        const p = { ...proposal(name, 1, [set('tool', 'acme')]), message: 'fix\u001b[8m' };
        return { init: json(JSON.stringify({ proposal: p, signatures: [await sig(p, 'alice')] })) };
      },
      400,
      'invalid-proposal',
    ],
    [
      'a body that names a member twice',
      async (name) => {
        const text = JSON.stringify(await body(name, ['alice', 'bob']));
        return { init: json(text.replace('"message":', '"message":"other","message":')) };
      },
      400,
      'invalid-json',
    ],
    [
      'a compressed body',
      async (name) => ({
        init: {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
          body: JSON.stringify(await body(name, ['alice', 'bob'])),
        },
      }),
      415,
      'unsupported-media-type',
    ],
    [
      'a policy that lists one key twice',
      async (name) => {
        const policy = { keys: [KEYS.alice.public, KEYS.alice.public.replace('alice', 'al')], threshold: 1 };
        return {
          init: json(
            JSON.stringify(await submissionOf(proposal(name, 1, [{ op: 'policy', policy }]), ['alice', 'bob'])),
          ),
        };
      },
      422,
      'invalid-policy',
    ],
  ];

  it.each(cases)(
    'refuses %s, leaving the registry, its proposals and KV as they were',
    async (_, make, status, kind) => {
      const { name, service } = await team();
      await settle(name);
      const kvBefore = await kvSnapshot(name);
      const proposalsBefore = await (await service.fetch(`/registries/${name}/proposals`)).text();
      const { path, init } = await make(name);
      const res = await service.fetch(path ?? `/registries/${name}/proposals`, init);
      expect(res.status).toBe(status);
      expect(res.headers.get('Content-Type')).toBe('application/problem+json');
      expect((await res.json<Problem>()).type).toBe(`urn:flake-registry:problem:${kind}`);
      await settle(name);
      expect(await kvSnapshot(name)).toEqual(kvBefore);
      expect(await (await service.fetch(`/registries/${name}/proposals`)).text()).toBe(proposalsBefore);
      expect((await service.fetch(`/registries/${name}/versions/2`)).status).toBe(404);
    },
  );

  it('refuses an approval for an unknown proposal and a bad approval signature', async () => {
    const { name, service } = await team();
    const p = proposal(name, 1, [set('tool', 'acme')]);
    const unknown = await approve(service, p, 'bob');
    expect(unknown.status).toBe(404);
    expect((await submit(service, p, ['alice'])).status).toBe(201);
    const other = proposal(name, 1, [set('tool', 'other')]);
    const wrong = await postJson(service, `/registries/${name}/proposals/${idOf(p)}/approvals`, {
      signature: await sig(other, 'bob'),
    });
    expect(wrong.status).toBe(403);
    const view = await (await service.fetch(`/registries/${name}/proposals/${idOf(p)}`)).json<ProposalView>();
    expect(view).toMatchObject({ status: 'open', approvals: { missing: 1 } });
  });
});

function json(text: string): RequestInit {
  return { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: text };
}

function body(name: string, signers: Parameters<typeof submissionOf>[1]) {
  return submissionOf(proposal(name, 1, [set('tool', 'acme')]), signers);
}
