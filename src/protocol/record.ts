import * as z from '../nix/zod.js';
import { SHA256_HEX } from './names.js';
import { sha256HexSync } from '../crypto/sha256.js';
import { canonicalJson } from './canonical.js';

/**
 * The immutable record of one registry version. Final in shape: the history
 * verifier reads these, so every field keeps its meaning forever.
 *
 * - `sha256`: of the version's file bytes.
 * - `parent`: of the previous version's record (its canonical JSON), null for version 1.
 * - `policy`: of the trust policy in force when the version was made (canonical JSON).
 * - `source`: version 1 carries the genesis policy itself; every later version the
 *   whole proposal it merged and the signatures that were counted.
 * - `changes`: what changed from the previous version, by entry.
 */

const sha256 = z.string().check(z.regex(SHA256_HEX));

export const changeSummarySchema = z.strictObject({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(z.string()),
  moved: z.array(z.string()),
});
export type ChangeSummary = z.infer<typeof changeSummarySchema>;

export const policyJsonSchema = z.strictObject({ keys: z.array(z.string()), threshold: z.int().check(z.positive()) });

export const versionRecordSchema = z.strictObject({
  registry: z.string(),
  version: z.int().check(z.positive()),
  sha256,
  parent: z.nullable(sha256),
  policy: sha256,
  created: z.iso.datetime(),
  entries: z.int().check(z.nonnegative()),
  source: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('embedded'), policy: policyJsonSchema }),
    z.strictObject({
      kind: z.literal('proposal'),
      id: sha256,
      // Read strictly by the verifier (proposalSchema); the read path only passes it on.
      proposal: z.record(z.string(), z.unknown()),
      signatures: z.array(z.string()),
    }),
  ]),
  changes: changeSummarySchema,
});
export type VersionRecord = z.infer<typeof versionRecordSchema>;

/** A record as stored and served: its canonical JSON, which `recordHash` covers. */
export const recordText = (record: VersionRecord): string => canonicalJson(record);

/** What the next version's `parent` names. */
export const recordHash = (record: VersionRecord): string =>
  sha256HexSync(new TextEncoder().encode(recordText(record)));
