import { beforeAll, describe, expect, it } from 'vitest';
import { sha256HexSync } from '../../src/crypto/sha256.js';
import type { Change } from '../../src/protocol/changes.js';
import type { PolicyJson } from '../../src/protocol/policy.js';
import {
  resumeHistory,
  verifyHistory,
  type HistoryVersion,
  type ResumeResult,
  type VerifiedHead,
} from '../../src/protocol/verify.js';
import { KEYS, TEST_POLICY } from '../worker/fixtures.js';
import { History, withRecord, withVersion } from './history.js';

/**
 * Resuming verification from a head verified before (what `sync` keeps) must reach the
 * verdicts a walk of the whole history reaches: the same head and policy, or the same
 * first failure with the same code and reason, wherever the history is cut.
 */

const from = (id: string) => ({ type: 'indirect', id });
const entry = (id: string, repo = id) => ({ from: from(id), to: { type: 'github', owner: 'o', repo } });
const FILE = { version: 2, flakes: [entry('a'), entry('b'), entry('c')] };
const set = (id: string, repo = id): Change => ({ op: 'set', entry: entry(id, repo) });
const ROTATED: PolicyJson = { keys: [KEYS.bob.public, KEYS.carol.public, KEYS.dave.public], threshold: 2 };

/** Seven versions: a merge based two versions back (4), a policy change (6), one under the new policy (7). */
async function history(last: Parameters<History['merge']>[1]['signers'] = ['dave', 'bob']): Promise<History> {
  const h = History.seed(FILE);
  await h.merge([set('d')], { signers: ['alice', 'bob'] });
  await h.merge([set('e')], { signers: ['bob', 'carol'] });
  await h.merge([set('f')], { signers: ['alice', 'carol'], base: 2 });
  await h.merge([set('b', 'b2')], { signers: ['carol', 'alice'] });
  await h.merge([{ op: 'policy', policy: ROTATED }], { signers: ['alice', 'bob', 'dave'] });
  await h.merge([set('g')], { signers: last });
  return h;
}

/** The head kept after verifying versions 1 to k. */
async function headAt(versions: readonly HistoryVersion[], k: number): Promise<VerifiedHead> {
  const result = await resumeHistory(undefined, versions.slice(0, k));
  if (!result.ok) throw new Error(`versions 1 to ${k} do not verify: ${result.reason}`);
  return result.verified;
}

/** Resumes after version k; earlier files come from `versions`, and each one asked for is noted. */
async function resumeAfter(
  versions: readonly HistoryVersion[],
  k: number,
  kept?: VerifiedHead,
): Promise<{ result: ResumeResult; asked: number[] }> {
  const asked: number[] = [];
  const baseFile = (n: number): Promise<string> => {
    asked.push(n);
    return Promise.resolve(versions[n - 1]?.file ?? '');
  };
  const result = await resumeHistory(kept ?? (await headAt(versions, k)), versions.slice(k), { baseFile });
  return { result, asked };
}

/** A verdict without what only resuming adds. */
function verdict(result: ResumeResult): unknown {
  if (!result.ok) return result;
  const { versions: _count, verified: _verified, ...rest } = result;
  return rest;
}

let honest: History;
beforeAll(async () => {
  honest = await history();
});

describe('resuming from a verified head', () => {
  it('reaches the verdict of the whole walk wherever the history is cut, across the policy change', async () => {
    const whole = await verifyHistory(honest.versions);
    if (!whole.ok) throw new Error(whole.reason);
    expect(whole).toMatchObject({ versions: 7, policy: ROTATED });
    const end = await headAt(honest.versions, 7);
    for (let k = 1; k < 7; k++) {
      const { result } = await resumeAfter(honest.versions, k);
      expect(verdict(result), `cut after version ${k}`).toEqual(verdict({ ...whole, verified: end }));
      expect(result.ok && result.versions, `cut after version ${k}`).toBe(7 - k);
      expect(result.ok && result.verified, `cut after version ${k}`).toEqual(end);
    }
  });

  it('keeps the policy in force and since when, as the next resumption needs them', async () => {
    expect(await headAt(honest.versions, 5)).toMatchObject({ version: 5, policy: TEST_POLICY, policySince: 1 });
    expect(await headAt(honest.versions, 6)).toMatchObject({ version: 6, policy: ROTATED, policySince: 7 });
    expect(await headAt(honest.versions, 7)).toEqual({
      registry: 'team',
      version: 7,
      recordHash: sha256HexSync(new TextEncoder().encode(honest.versions[6]?.recordText ?? '')),
      file: honest.versions[6]?.file,
      policy: ROTATED,
      policySince: 7,
    });
  });

  it('replays a merge based before the kept head on the base file it asks for', async () => {
    const { result, asked } = await resumeAfter(honest.versions, 3);
    expect(result.ok).toBe(true);
    expect(asked).toEqual([2]);
    // Based on the kept head itself, or on a version of the new part: nothing to ask for.
    expect((await resumeAfter(honest.versions, 4)).asked).toEqual([]);
    expect((await resumeAfter(honest.versions, 2)).asked).toEqual([]);
  });

  it('with nothing new, verifies as the head it kept', async () => {
    const kept = await headAt(honest.versions, 7);
    const result = await resumeHistory(kept, []);
    expect(result).toMatchObject({ ok: true, versions: 0, head: { version: 7 }, policy: ROTATED, verified: kept });
  });

  it('cannot replay a merge based before the kept head without its file', async () => {
    await expect(resumeHistory(await headAt(honest.versions, 3), honest.versions.slice(3))).rejects.toThrow(
      "version 2's file is needed",
    );
  });
});

describe('resuming refuses what the whole walk refuses, with the same code and reason', () => {
  const cases: [string, () => readonly HistoryVersion[] | Promise<readonly HistoryVersion[]>, number, string][] = [
    [
      'a file with a byte changed',
      () => withVersion(honest.versions, 5, (v) => ({ ...v, file: v.file.replace('"b2"', '"B2"') })),
      5,
      'file-hash-mismatch',
    ],
    [
      'a signature dropped below the threshold',
      () =>
        withRecord(honest.versions, 4, (r) =>
          r.source.kind === 'proposal'
            ? { ...r, source: { ...r.source, signatures: r.source.signatures.slice(0, 1) } }
            : r,
        ),
      4,
      'threshold-not-met',
    ],
    [
      'a version after the policy change signed by a key it removed',
      async () => (await history(['alice', 'bob'])).versions,
      7,
      'signature-untrusted',
    ],
    [
      'a version that names another policy than the one in force since the change',
      () => withRecord(honest.versions, 7, (r) => ({ ...r, policy: 'a'.repeat(64) })),
      7,
      'policy-hash-mismatch',
    ],
  ];
  for (const [what, make, failing, code] of cases) {
    it(what, async () => {
      const versions = await make();
      const whole = await verifyHistory(versions);
      expect(whole).toMatchObject({ ok: false, version: failing, code });
      for (let k = 1; k < failing; k++) {
        const { result } = await resumeAfter(versions, k);
        expect(result, `cut after version ${k}`).toEqual(whole);
      }
    });
  }

  it("a new version whose parent is not the kept head's record: another history from there", async () => {
    // The same first three versions, then another version 4 and what follows it.
    const other = History.seed(FILE);
    await other.merge([set('d')], { signers: ['alice', 'bob'] });
    await other.merge([set('e')], { signers: ['bob', 'carol'] });
    await other.merge([set('x')], { signers: ['alice', 'bob'] });
    await other.merge([set('y')], { signers: ['alice', 'bob'] });
    expect(other.versions.slice(0, 3)).toEqual(honest.versions.slice(0, 3));

    const kept = await headAt(honest.versions, 4);
    const spliced = [...honest.versions.slice(0, 4), ...other.versions.slice(4)];
    const whole = await verifyHistory(spliced);
    expect(whole).toMatchObject({ ok: false, version: 5, code: 'parent-hash-mismatch' });
    const { result } = await resumeAfter(spliced, 4, kept);
    expect(result).toEqual(whole);
    expect(result.ok ? '' : result.reason).toContain(`version 4's record hashes to ${kept.recordHash}`);
  });
});
