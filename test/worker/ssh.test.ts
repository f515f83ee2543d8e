import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/protocol/changes.js';
import type { Proposal } from '../../src/protocol/proposal.js';
import { proposalBytes, signingMessage } from '../../src/protocol/signing.js';
import { verifyHistory } from '../../src/protocol/verify.js';
import type { ProposalView } from '../../src/writer/contract.js';
import { KEYS } from './fixtures.js';
import type { TestService } from './helpers.js';
import { idOf, kvSnapshot, postJson, proposal, servedHistory, settle, signature, team } from './signing.js';
import {
  nixEntry,
  rsaSignature,
  skEntry,
  skSignature,
  sshEntry,
  sshSignature,
  sshTestKey,
  type SshTestKey,
} from './ssh-signing.js';

/**
 * Maintainers with SSH keys, through the HTTP API and the registry's writer: a policy lists
 * OpenSSH keys beside Nix keys, SSH signatures count beside Nix ones (once per key), and every
 * bad one is refused with nothing stored.
 */

interface Problem {
  readonly type: string;
  readonly detail: string;
}

const set = (id: string): Change => ({
  op: 'set',
  entry: { from: { type: 'indirect', id }, to: { type: 'github', owner: 'acme', repo: id } },
});

const messageOf = (p: Proposal): Uint8Array => signingMessage(proposalBytes(p));

interface Setup {
  readonly name: string;
  readonly service: TestService;
  /** An ssh-ed25519 key the policy lists as an SSH key. */
  readonly erin: SshTestKey;
  /** A security key (sk-ssh-ed25519, application ssh:) the policy lists. */
  readonly frank: SshTestKey;
}

async function setup(): Promise<Setup> {
  const [erin, frank] = await Promise.all([sshTestKey(), sshTestKey()]);
  const policy = {
    keys: [KEYS.alice.public, KEYS.bob.public, sshEntry('erin', erin), skEntry('frank', frank)],
    threshold: 2,
  };
  return { ...(await team(policy)), erin, frank };
}

const submitTexts = (service: TestService, p: Proposal, signatures: string[]): Promise<Response> =>
  postJson(service, `/registries/${p.registry}/proposals`, { proposal: p, signatures });
const approveText = (service: TestService, p: Proposal, text: string): Promise<Response> =>
  postJson(service, `/registries/${p.registry}/proposals/${idOf(p)}/approvals`, { signature: text });
const view = async (service: TestService, p: Proposal): Promise<ProposalView> =>
  (await service.fetch(`/registries/${p.registry}/proposals/${idOf(p)}`)).json<ProposalView>();

describe('SSH keys and signatures over HTTP', () => {
  it('merges a proposal made with a Nix key once an SSH key approves it, the pair meeting threshold 2', async () => {
    const { name, service, erin } = await setup();
    const p = proposal(name, 1, [set('tool')]);
    expect((await submitTexts(service, p, [await signature(p, 'alice')])).status).toBe(201);
    const armored = await sshSignature(erin, messageOf(p));
    const approved = await approveText(service, p, armored);
    expect(approved.status).toBe(200);
    const merged = await approved.json<ProposalView>();
    expect(merged).toMatchObject({
      status: 'merged',
      version: 2,
      approvals: { policy: { have: 2, signers: ['alice', 'erin'] } },
    });
    const erinRow = merged.signatures.find((s) => s.key.startsWith('erin:'));
    expect(erinRow).toMatchObject({ signature: armored, counted: true });
    expect(erinRow?.key).toMatch(/^erin:ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI/);
    await settle(name);
    const record = await (
      await service.fetch(`/registries/${name}/versions/2`)
    ).json<{ source: { signatures: string[] } }>();
    expect(record.source.signatures).toContain(armored);
    expect(await verifyHistory(await servedHistory(service, name))).toMatchObject({ ok: true });
    // The pages name an SSH signer by its key's fingerprint, never by the armor's text.
    const page = await (await service.fetch(`/r/${name}/history`)).text();
    expect(page).toMatch(/SSH signature by SHA256:[A-Za-z0-9+/]{43}/);
    expect(page).not.toContain('BEGIN SSH SIGNATURE');
    const review = await (await service.fetch(`/r/${name}/proposals/${idOf(p)}`)).text();
    expect(review).toMatch(/<td class="mono">(<bdi>)?erin(<\/bdi>)?<\/td>/);
  });

  it('takes an SSH signature in a submission, and a security key signature made with a touch', async () => {
    const { name, service, erin, frank } = await setup();
    const p = proposal(name, 1, [set('tool')]);
    const message = messageOf(p);
    const res = await submitTexts(service, p, [
      await sshSignature(erin, message),
      await skSignature(frank, message, { flags: 0x05, counter: 9 }),
    ]);
    expect(res.status).toBe(201);
    expect(await res.json<ProposalView>()).toMatchObject({
      status: 'merged',
      approvals: { policy: { signers: ['erin', 'frank'] } },
    });
  });

  it('takes an armor with CRLF line ends, and refuses one with an invisible character around it', async () => {
    const { name, service, erin } = await setup();
    const p = proposal(name, 1, [set('tool')]);
    expect((await submitTexts(service, p, [await signature(p, 'alice')])).status).toBe(201);
    const armored = await sshSignature(erin, messageOf(p));
    const hidden = await approveText(service, p, `\u{FEFF}${armored}`);
    expect(hidden.status).toBe(400);
    expect((await hidden.json<Problem>()).detail).toMatch(/U\+FEFF/);
    expect((await view(service, p)).signatures).toHaveLength(1);
    const crlf = armored.replaceAll('\n', '\r\n');
    const res = await approveText(service, p, crlf);
    expect(await res.json<ProposalView>()).toMatchObject({ status: 'merged' });
    expect((await view(service, p)).signatures.map((s) => s.signature)).toContain(crlf);
  });

  it('counts an SSH signature by a key the policy lists in Nix form', async () => {
    const erin = await sshTestKey();
    const { name, service } = await team({ keys: [KEYS.alice.public, nixEntry('erin', erin)], threshold: 2 });
    const p = proposal(name, 1, [set('tool')]);
    const res = await submitTexts(service, p, [await signature(p, 'alice'), await sshSignature(erin, messageOf(p))]);
    expect(await res.json<ProposalView>()).toMatchObject({ status: 'merged' });
  });

  it('counts a key once when it approves again in its other form', async () => {
    const erin = await sshTestKey();
    const { name, service } = await team({
      keys: [KEYS.alice.public, KEYS.bob.public, nixEntry('erin', erin)],
      threshold: 3,
    });
    const p = proposal(name, 1, [set('tool')]);
    expect((await submitTexts(service, p, [await sshSignature(erin, messageOf(p))])).status).toBe(201);
    const nix = `erin:${await nixSignature(erin, messageOf(p))}`;
    const again = await approveText(service, p, nix);
    expect(again.status).toBe(200);
    expect(await again.json<ProposalView>()).toMatchObject({ status: 'open', approvals: { policy: { have: 1 } } });
    expect((await view(service, p)).signatures).toHaveLength(1);
  });

  describe('refused with nothing stored', () => {
    type Case = readonly [string, (s: Setup, p: Proposal) => Promise<string>, number, RegExp];
    const cases: readonly Case[] = [
      [
        'in the wrong namespace',
        (s, p) => sshSignature(s.erin, messageOf(p), 'git'),
        403,
        /namespace "git", not "flake-registry"/,
      ],
      [
        'over other bytes',
        (s, p) => sshSignature(s.erin, messageOf({ ...p, message: 'other' })),
        403,
        /over other bytes/,
      ],
      [
        'by an RSA key',
        () => Promise.resolve(rsaSignature()),
        400,
        /RSA keys \(ssh-rsa\) are not accepted; only ssh-ed25519 and sk-ssh-ed25519/,
      ],
      [
        'with a truncated armor',
        async (s, p) => (await sshSignature(s.erin, messageOf(p))).slice(0, 200),
        400,
        /SSH signature/,
      ],
      [
        'with its armor header in lower case',
        async (s, p) =>
          (await sshSignature(s.erin, messageOf(p))).replace('BEGIN SSH SIGNATURE', 'begin ssh signature'),
        400,
        /the armor header must be exactly -----BEGIN SSH SIGNATURE-----/,
      ],
      [
        'by a security key without user presence',
        (s, p) => skSignature(s.frank, messageOf(p), { flags: 0x00 }),
        403,
        /without the user's touch/,
      ],
      [
        'by a security key for another application',
        (s, p) => skSignature(s.frank, messageOf(p), { signedApplication: 'ssh:other' }),
        403,
        /does not verify/,
      ],
      [
        'by a security key with its counter changed',
        (s, p) => skSignature(s.frank, messageOf(p), { counter: 4, writtenCounter: 5 }),
        403,
        /does not verify/,
      ],
      [
        'by an SSH key the policy does not list',
        async (_, p) => sshSignature(await sshTestKey(), messageOf(p)),
        403,
        /not a trusted key/,
      ],
    ];

    it.each(cases)('an approval %s', async (_, make, status, detail) => {
      const s = await setup();
      const p = proposal(s.name, 1, [set('tool')]);
      expect((await submitTexts(s.service, p, [await signature(p, 'alice')])).status).toBe(201);
      const before = await kvSnapshot(s.name);
      const res = await approveText(s.service, p, await make(s, p));
      expect(res.status).toBe(status);
      expect((await res.json<Problem>()).detail).toMatch(detail);
      expect(await view(s.service, p)).toMatchObject({ status: 'open', signatures: [{ key: KEYS.alice.public }] });
      expect(await kvSnapshot(s.name)).toEqual(before);
    });

    it.each(cases)('a submission %s', async (_, make, status) => {
      const s = await setup();
      const p = proposal(s.name, 1, [set('tool')]);
      const before = await kvSnapshot(s.name);
      const res = await submitTexts(s.service, p, [await signature(p, 'alice'), await make(s, p)]);
      expect(res.status).toBe(status);
      expect((await s.service.fetch(`/registries/${s.name}/proposals/${idOf(p)}`)).status).toBe(404);
      expect(await kvSnapshot(s.name)).toEqual(before);
    });

    it('one key twice in two forms as two signatures on one proposal', async () => {
      const erin = await sshTestKey();
      const { name, service } = await team({ keys: [KEYS.alice.public, sshEntry('erin', erin)], threshold: 2 });
      const p = proposal(name, 1, [set('tool')]);
      const before = await kvSnapshot(name);
      const nix = `erin:${await nixSignature(erin, messageOf(p))}`;
      const res = await submitTexts(service, p, [nix, await sshSignature(erin, messageOf(p))]);
      expect(res.status).toBe(400);
      const problem = await res.json<Problem>();
      expect(problem.type).toMatch(/duplicate-signer$/);
      expect(problem.detail).toMatch(/one key \('erin'\)/);
      expect((await service.fetch(`/registries/${name}/proposals/${idOf(p)}`)).status).toBe(404);
      expect(await kvSnapshot(name)).toEqual(before);
    });

    it('a policy change listing one key in Nix form and in SSH form', async () => {
      const s = await setup();
      const p = proposal(s.name, 1, [
        {
          op: 'policy',
          policy: { keys: [KEYS.alice.public, nixEntry('erin2', s.erin), sshEntry('erin', s.erin)], threshold: 1 },
        },
      ]);
      const before = await kvSnapshot(s.name);
      const res = await submitTexts(s.service, p, [await signature(p, 'alice'), await signature(p, 'bob')]);
      expect(res.status).toBe(422);
      expect((await res.json<Problem>()).detail).toMatch(/'erin' and 'erin2' are the same key/);
      expect(await kvSnapshot(s.name)).toEqual(before);
    });

    it('a policy change listing an RSA key, naming what is accepted', async () => {
      const s = await setup();
      const p = proposal(s.name, 1, [
        {
          op: 'policy',
          policy: {
            keys: [KEYS.alice.public, 'rob:ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== rob@laptop'],
            threshold: 1,
          },
        },
      ]);
      const res = await submitTexts(s.service, p, [await signature(p, 'alice'), await signature(p, 'bob')]);
      expect(res.status).toBe(422);
      expect((await res.json<Problem>()).detail).toMatch(
        /RSA keys \(ssh-rsa\) are not accepted; only ssh-ed25519 and sk-ssh-ed25519@openssh.com/,
      );
    });
  });
});

/** A Nix-format signature's base64 by the same key (the key in Nix's form signs plain Ed25519). */
async function nixSignature(key: SshTestKey, message: Uint8Array): Promise<string> {
  return btoa(String.fromCharCode(...(await key.sign(message))));
}
