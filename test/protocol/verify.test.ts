import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSecretKey } from '../../src/crypto/keys.js';
import { sha256HexSync } from '../../src/crypto/sha256.js';
import type { Change, Position } from '../../src/protocol/changes.js';
import type { PolicyJson } from '../../src/protocol/policy.js';
import type { VersionRecord } from '../../src/protocol/record.js';
import {
  VERIFY_CODES,
  verifyHistory,
  type HistoryVersion,
  type VerifyCode,
  type VerifyOptions,
} from '../../src/protocol/verify.js';
import { KEYS, TEST_POLICY } from '../worker/fixtures.js';
import { History, withRecord, withVersion } from './history.js';

const from = (id: string) => ({ type: 'indirect', id });
const entry = (id: string, repo = id) => ({ from: from(id), to: { type: 'github', owner: 'o', repo } });
const FILE = { version: 2, flakes: [entry('a'), entry('b'), entry('c')] };

const set = (id: string, repo = id, position?: Position): Change => ({
  op: 'set',
  entry: entry(id, repo),
  ...(position === undefined ? {} : { position }),
});
const remove = (id: string): Change => ({ op: 'remove', from: from(id) });
const move = (id: string, position: Position): Change => ({ op: 'move', from: from(id), position });
const policy = (policy: PolicyJson): Change => ({ op: 'policy', policy });

/** alice leaves, dave joins; two of three still sign. */
const ROTATED: PolicyJson = { keys: [KEYS.bob.public, KEYS.carol.public, KEYS.dave.public], threshold: 2 };

/**
 * Eight versions: edits of every kind, a merge whose base is behind the head,
 * a policy change and a version signed under the new policy.
 */
async function longHistory(): Promise<History> {
  const h = History.seed(FILE);
  await h.merge([set('d', 'd', 'end')], { signers: ['alice', 'bob'] });
  await h.merge([remove('a')], { signers: ['bob', 'carol'] });
  await h.merge([set('e', 'e', 'start')], { signers: ['alice', 'carol'], base: 2 });
  await h.merge([move('c', 'start'), set('b', 'b2')], { signers: ['carol', 'alice'] });
  await h.merge([{ op: 'file', file: { version: 2, flakes: [entry('c'), entry('b', 'b3'), entry('f')] } }], {
    signers: ['alice', 'bob'],
  });
  await h.merge([policy(ROTATED)], { signers: ['alice', 'bob', 'dave'] });
  await h.merge([set('g', 'g', 'end')], { signers: ['dave', 'bob'] });
  return h;
}

async function refused(
  versions: readonly HistoryVersion[],
  version: number,
  code: VerifyCode,
  fragment: string,
  options?: VerifyOptions,
): Promise<void> {
  const result = await verifyHistory(versions, options);
  expect(result).toMatchObject({ ok: false, version, code });
  expect(result.ok ? '' : result.reason).toContain(fragment);
  expect(result.ok ? '' : result.reason).toMatch(new RegExp(`^version ${version}[: ]`));
}

/** A history of version 1 and one merge signed by `signers`, with `changes`. */
async function oneMerge(signers: Parameters<History['merge']>[1]['signers'], changes = [set('d')]) {
  const h = History.seed(FILE);
  await h.merge(changes, { signers });
  return h.versions;
}

let long: History;
beforeAll(async () => {
  long = await longHistory();
});

describe('verifyHistory accepts', () => {
  it('a registry that only has its version 1', async () => {
    const h = History.seed(FILE);
    expect(await verifyHistory(h.versions)).toEqual({
      ok: true,
      versions: 1,
      head: { version: 1, sha256: h.records[0]?.sha256 },
      policy: TEST_POLICY,
    });
  });

  it('a history with every kind of change, a stale base, a policy change and merges under the new policy', async () => {
    expect(long.head).toBe(8);
    expect(await verifyHistory(long.versions)).toEqual({
      ok: true,
      versions: 8,
      head: { version: 8, sha256: long.records[7]?.sha256 },
      policy: ROTATED,
    });
  });

  it('a history whose policy change takes effect at the next version, not its own', async () => {
    // Version 7's own record names the policy it was merged under: TEST_POLICY.
    const h = await longHistory();
    expect(h.records[6]?.policy).toBe(h.records[5]?.policy);
    expect(h.records[7]?.policy).not.toBe(h.records[6]?.policy);
  });

  it('signatures only from `from` on, when the versions before were checked earlier', async () => {
    const h = History.seed(FILE);
    await h.merge([set('d')], { signers: ['alice'] });
    await h.merge([set('e')], { signers: ['alice', 'bob'] });
    await refused(
      h.versions,
      2,
      'threshold-not-met',
      'it has 1 of the 2 signatures the policy in force needs (signed: alice)',
    );
    expect(await verifyHistory(h.versions, { from: 3 })).toMatchObject({ ok: true, versions: 3 });
  });
});

describe('verifyHistory refuses', () => {
  it('an empty history', async () => {
    await refused([], 1, 'empty-history', 'version 1 is missing');
  });

  it('a file with a byte changed', async () => {
    const versions = withVersion(long.versions, 3, (v) => ({ ...v, file: v.file.replace('"d"', '"D"') }));
    await refused(versions, 3, 'file-hash-mismatch', `its file's SHA-256 is `);
    await refused(versions, 3, 'file-hash-mismatch', `, the record says ${long.records[2]?.sha256}`);
  });

  it('a history with a version dropped', async () => {
    const versions = long.versions.filter((_, i) => i !== 2);
    await refused(versions, 3, 'version-missing', 'version 3 is missing: got version 4 at position 3');
  });

  it('versions out of order', async () => {
    const v = long.versions;
    await refused(
      [v[0]!, v[2]!, v[1]!, ...v.slice(3)],
      2,
      'version-missing',
      'version 2 is missing: got version 3 at position 2',
    );
    await refused(
      [v[0]!, v[1]!, v[1]!, ...v.slice(2)],
      3,
      'version-out-of-order',
      'got version 2 at position 3, out of order',
    );
  });

  it('a record whose entry count was edited', async () => {
    const versions = withRecord(long.versions, 3, (r) => ({ ...r, entries: r.entries + 1 }));
    await refused(versions, 3, 'entry-count-mismatch', 'its record counts 4 entries, its file has 3');
  });

  it('a record whose change summary was edited, on its own and by the next parent link', async () => {
    const versions = withRecord(long.versions, 3, (r) => ({ ...r, changes: { ...r.changes, removed: [] } }));
    await refused(versions, 3, 'replay-changes-differ', "its record's change summary is not what replaying proposal");
    // Not replayed from version 4 on, but version 4's parent no longer names it.
    await refused(versions, 4, 'parent-hash-mismatch', 'its parent is ', { from: 4 });
    await refused(
      versions,
      4,
      'parent-hash-mismatch',
      `but version 3's record hashes to ${sha256HexSync(versions[2]!.recordText)}`,
      {
        from: 4,
      },
    );
  });

  it('a record that is not canonical JSON', async () => {
    const versions = withVersion(long.versions, 8, (v) => ({
      ...v,
      recordText: JSON.stringify(JSON.parse(v.recordText), null, 1),
    }));
    await refused(versions, 8, 'record-not-canonical', 'its record is not canonical JSON (RFC 8785)');
  });

  it('a signature by a key no policy trusts', async () => {
    await refused(
      await oneMerge(['alice', 'dave']),
      2,
      'signature-untrusted',
      "signature 'dave:…' is not by a key of the policy in force",
    );
  });

  it('a signature by a key an earlier policy change removed', async () => {
    const h = History.seed(FILE);
    await h.merge([policy(ROTATED)], { signers: ['alice', 'bob', 'carol'] });
    await h.merge([set('d')], { signers: ['bob', 'alice'] });
    await refused(h.versions, 3, 'signature-untrusted', "signature 'alice:…' is not by a key of the policy in force");
  });

  it('the same key counted twice under two names', async () => {
    const alicia = await parseSecretKey(KEYS.alice.secret.replace(/^alice:/, 'alicia:'));
    await refused(
      await oneMerge(['alice', alicia]),
      2,
      'signature-duplicate',
      "signatures 'alice:…' and 'alicia:…' are by one key ('alice'); a key counts once",
    );
  });

  it('too few signatures for the policy in force', async () => {
    await refused(
      await oneMerge(['carol']),
      2,
      'threshold-not-met',
      'it has 1 of the 2 signatures the policy in force needs (signed: carol)',
    );
  });

  it('a policy change without the threshold of the new policy', async () => {
    const stricter = { keys: [...TEST_POLICY.keys, KEYS.dave.public], threshold: 3 };
    await refused(
      await oneMerge(['alice', 'bob'], [policy(stricter)]),
      2,
      'new-threshold-not-met',
      'it changes the policy with 2 of the 3 signatures the new policy needs (signed: alice, bob)',
    );
  });

  it('a proposal changed after it was signed, so its id does not match', async () => {
    const versions = withRecord(long.versions, 8, (r) =>
      r.source.kind === 'proposal'
        ? { ...r, source: { ...r.source, proposal: { ...r.source.proposal, message: 'something else' } } }
        : r,
    );
    await refused(
      versions,
      8,
      'proposal-id-mismatch',
      `, the record says ${long.records[7]?.source.kind === 'proposal' && long.records[7].source.id}`,
    );
    await refused(versions, 8, 'proposal-id-mismatch', "its proposal's id is ");
  });

  it('a file that is valid and hashed in its record, but not what the proposal makes', async () => {
    // Version 3 removed `a`; serve a file that also drops `d`, with a record to match.
    const other = History.seed({ version: 2, flakes: [entry('b'), entry('c')] }).versions[0]!.file;
    let versions = withVersion(long.versions, 3, (v) => ({ ...v, file: other }));
    versions = withRecord(versions, 3, (r) => ({ ...r, sha256: sha256HexSync(other), entries: 2 }));
    const id = long.records[2]?.source.kind === 'proposal' ? long.records[2].source.id : '';
    await refused(
      versions,
      3,
      'replay-bytes-differ',
      `replaying proposal ${id} on version 2 gives other bytes than its file`,
    );
  });

  it('a version made after its proposal expired', async () => {
    const h = History.seed(FILE);
    await h.merge([set('d')], { signers: ['alice', 'bob'], lifetimeMs: 30_000 });
    await refused(h.versions, 2, 'merged-after-expiry', 'when its proposal had expired');
  });
});

describe('verifyHistory names every refusal by a stable code', () => {
  const mutate = (n: number, edit: (r: VersionRecord) => VersionRecord) => withRecord(long.versions, n, edit);

  it.each([
    [
      'a record that is not JSON',
      () => withVersion(long.versions, 2, (v) => ({ ...v, recordText: '{' })),
      2,
      'record-not-json',
    ],
    [
      'a record of another shape',
      () => withVersion(long.versions, 2, (v) => ({ ...v, recordText: '{}' })),
      2,
      'record-invalid',
    ],
    ['a record of another registry', () => mutate(2, (r) => ({ ...r, registry: 'other' })), 2, 'registry-mismatch'],
    ['a version 1 with a parent', () => mutate(1, (r) => ({ ...r, parent: 'a'.repeat(64) })), 1, 'genesis-parent'],
    [
      'a version 1 made by a proposal',
      () =>
        mutate(1, (r) => ({ ...r, source: { kind: 'proposal', id: 'a'.repeat(64), proposal: {}, signatures: [] } })),
      1,
      'genesis-source',
    ],
    [
      'a genesis policy that hashes to something else',
      () => mutate(1, (r) => ({ ...r, policy: 'a'.repeat(64) })),
      1,
      'genesis-policy-hash',
    ],
    [
      'a later version that claims to be embedded',
      () => mutate(2, (r) => ({ ...r, source: { kind: 'embedded', policy: TEST_POLICY } })),
      2,
      'source-not-proposal',
    ],
    [
      'a version under another policy',
      () => mutate(2, (r) => ({ ...r, policy: 'a'.repeat(64) })),
      2,
      'policy-hash-mismatch',
    ],
    [
      'a file that is not in the canonical form',
      () =>
        withRecord(
          withVersion(long.versions, 2, (v) => ({ ...v, file: `${v.file}\n` })),
          2,
          (r) => ({ ...r, sha256: sha256HexSync(`${long.versions[1]?.file ?? ''}\n`) }),
        ),
      2,
      'file-not-canonical',
    ],
    [
      'a proposal carrying a member a proposal cannot',
      () =>
        mutate(2, (r) =>
          r.source.kind === 'proposal'
            ? { ...r, source: { ...r.source, proposal: { ...r.source.proposal, extra: 1 } } }
            : r,
        ),
      2,
      'proposal-invalid',
    ],
    [
      'a malformed signature',
      () =>
        mutate(2, (r) =>
          r.source.kind === 'proposal' ? { ...r, source: { ...r.source, signatures: ['alice:!!'] } } : r,
        ),
      2,
      'signature-malformed',
    ],
  ] as const)('%s', async (_, make, version, code) => {
    const result = await verifyHistory(make());
    expect(result).toMatchObject({ ok: false, version, code });
  });

  it('documents every code beside its check in docs/protocol.md', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'protocol.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Verifying a history'));
    for (const code of VERIFY_CODES) expect(section, code).toContain(`\`${code}\``);
  });
});
