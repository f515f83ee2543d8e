import { parseSecretKey, type SecretKey } from '../../src/crypto/keys.js';
import type { Change } from '../../src/protocol/changes.js';
import type { PolicyJson } from '../../src/protocol/policy.js';
import { canonicalJson } from '../../src/protocol/canonical.js';
import { versionRecordSchema, type VersionRecord } from '../../src/protocol/record.js';
import type { HistoryVersion } from '../../src/protocol/verify.js';
import { HistoryBuilder, type MergeOptions as BuilderOptions, type Signer } from '../../scripts/bench/history.js';
import { CREATED, KEYS, TEST_POLICY } from '../worker/fixtures.js';

/** Histories made as the writer makes them (scripts/bench/history.ts), signed by the test keys by name. */

export type Maintainer = keyof typeof KEYS;

export const secretKey = (name: Maintainer): Promise<SecretKey> => parseSecretKey(KEYS[name].secret);

export type MergeOptions = BuilderOptions<Maintainer | Signer>;

export class History extends HistoryBuilder {
  /** Version 1 of registry `name` holding `file`, trusting `policy`. */
  static seed(file: unknown, policy: PolicyJson = TEST_POLICY, name = 'team'): History {
    return new History(name, file, policy, CREATED);
  }

  /** Signs a proposal of `changes` and merges it as the writer would; throws if review refuses it. */
  override async merge(changes: readonly Change[], options: MergeOptions): Promise<VersionRecord> {
    const signers = await Promise.all(
      options.signers.map((s) => (typeof s === 'string' ? secretKey(s) : Promise.resolve(s))),
    );
    return super.merge(changes, { ...options, signers });
  }
}

/** `versions` with version `n`'s record edited and written canonically again (its file untouched). */
export function withRecord(
  versions: readonly HistoryVersion[],
  n: number,
  edit: (record: VersionRecord) => VersionRecord,
): HistoryVersion[] {
  return versions.map((v, i) => {
    if (i !== n - 1) return v;
    const record = versionRecordSchema.parse(JSON.parse(v.recordText));
    return { ...v, recordText: canonicalJson(edit(record)) };
  });
}

/** `versions` with version `n` replaced. */
export function withVersion(
  versions: readonly HistoryVersion[],
  n: number,
  edit: (version: HistoryVersion) => HistoryVersion,
): HistoryVersion[] {
  return versions.map((v, i) => (i === n - 1 ? edit(v) : v));
}
