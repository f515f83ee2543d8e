import { sha256Hex } from '../crypto/sha256.js';
import { diffRegistries } from '../nix/diff.js';
import { NixError } from '../nix/errors.js';
import { isWrittenAs, readRegistry, writeRegistry, type Registry, type RegistryEntry } from '../nix/registry.js';
import type { MergeResult } from '../nix/merge.js';
import { CanonicalJsonError, canonicalJson } from './canonical.js';
import { PolicyError, readPolicy, type Policy, type PolicyJson } from './policy.js';
import { MAX_CLOCK_SKEW_MS, proposalSchema, proposedPolicy, type Proposal } from './proposal.js';
import { versionRecordSchema, type VersionRecord } from './record.js';
import { firstIssue } from './issues.js';
import { replay } from './review.js';
import { attributeSignatures, candidateKeys, met, signatureLabel, tally, type SignatureProblem } from './signatures.js';
import { proposalBytes, signingMessage } from './signing.js';

/**
 * The offline history verifier: given every version of a registry as it is
 * served, it checks that each version follows from the one before, as the
 * writer made it, and that the maintainers the policy in force trusts signed
 * for it. docs/protocol.md lists the checks.
 *
 * Lint is not part of it on purpose: lint rules may grow, and a version merged
 * under older rules stays valid. What counts is what Nix reads, and that the
 * bytes follow from signed proposals.
 */

/** One version as served: `GET /registries/NAME/versions/N` and `.../versions/N/flake-registry.json`. */
export interface HistoryVersion {
  /** The record, exactly the bytes served (its canonical JSON). */
  readonly recordText: string;
  /** The registry file, exactly the bytes served. */
  readonly file: string;
}

export type VerifyResult =
  | {
      readonly ok: true;
      readonly versions: number;
      readonly head: { readonly version: number; readonly sha256: string };
      /** The policy in force after the head: the one the next version must be signed under. */
      readonly policy: PolicyJson;
    }
  | { readonly ok: false; readonly version: number; readonly code: VerifyCode; readonly reason: string };

/**
 * Why a history does not verify, stably: tests, the command's `--json` and other
 * clients compare these, never the sentences. docs/protocol.md lists each beside
 * the check that raises it.
 */
export const VERIFY_CODES = [
  'empty-history',
  'record-not-json',
  'record-invalid',
  'record-not-canonical',
  'version-missing',
  'version-out-of-order',
  'registry-mismatch',
  'file-hash-mismatch',
  'file-unreadable',
  'file-not-canonical',
  'entry-count-mismatch',
  'genesis-parent',
  'genesis-source',
  'genesis-policy-invalid',
  'genesis-policy-hash',
  'genesis-changes',
  'parent-hash-mismatch',
  'policy-hash-mismatch',
  'source-not-proposal',
  'proposal-invalid',
  'proposal-extra-members',
  'proposal-id-mismatch',
  'proposal-registry-mismatch',
  'proposal-base-invalid',
  'merged-after-expiry',
  'merged-before-created',
  'proposed-policy-invalid',
  'signature-malformed',
  'signature-untrusted',
  'signature-bad',
  'signature-duplicate',
  'threshold-not-met',
  'new-threshold-not-met',
  'replay-conflict',
  'replay-failed',
  'replay-bytes-differ',
  'replay-changes-differ',
] as const;
export type VerifyCode = (typeof VERIFY_CODES)[number];

export interface VerifyOptions {
  /**
   * Check signatures and replays from this version on (a verifier resuming
   * from a version it checked before); every hash link is still checked from
   * version 1, so the history it checked is the one it is given. Default 1.
   */
  readonly from?: number;
  /**
   * Called once each version has passed every check, with its number, and awaited: a page
   * shows progress here and gives the event loop a turn, so a long history keeps it responsive.
   */
  readonly onVerified?: (version: number) => void | Promise<void>;
}

class Refusal extends Error {
  constructor(
    readonly version: number,
    readonly code: VerifyCode,
    reason: string,
  ) {
    super(reason);
  }
}

function refuse(version: number, code: VerifyCode, reason: string): never {
  throw new Refusal(version, code, `version ${version}: ${reason}`);
}

/** A signature as a reason shows it: its name or its SSH key's fingerprint, not its bytes. */
const shown = signatureLabel;

/**
 * Verifies `versions`, where versions[i] is version i + 1 of one registry, up to
 * its head. Resolves to the first failure, naming the version and what failed.
 */
export async function verifyHistory(
  versions: readonly HistoryVersion[],
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const from = options.from ?? 1;
  if (!Number.isSafeInteger(from) || from < 1) throw new RangeError(`from must be a version number, got ${from}`);
  if (versions.length === 0) {
    return { ok: false, version: 1, code: 'empty-history', reason: 'version 1 is missing: the history is empty' };
  }
  const walked = await walk(new Walk(from), 1, versions, options.onVerified);
  if (!walked.ok) return walked;
  const { verified: _verified, ...result } = walked;
  return result;
}

/**
 * What a verifier keeps of a history it verified, to go on from there later with the
 * new versions only: its last version's record hash and file, and the policy in force
 * after it. The file is kept because the next merge is replayed on it.
 */
export interface VerifiedHead {
  readonly registry: string;
  readonly version: number;
  /** SHA-256 of the version's record, the parent hash the next version must name. */
  readonly recordHash: string;
  /** The version's registry file, exactly its bytes. */
  readonly file: string;
  /** The policy in force after it: the one the next version is signed under. */
  readonly policy: PolicyJson;
  /** The version that policy is in force since (1, or the version after the change that set it). */
  readonly policySince: number;
}

export interface ResumeOptions {
  /**
   * The registry file of an earlier verified version, which a new version's proposal was
   * based on (a merge is replayed from its proposal's base). The caller vouches for its
   * bytes (a resuming client checks them against the version's log leaf). Without it, such
   * a proposal cannot be replayed and resuming throws.
   */
  readonly baseFile?: (version: number) => Promise<string>;
}

export type ResumeResult =
  (Extract<VerifyResult, { ok: true }> & { readonly verified: VerifiedHead }) | Extract<VerifyResult, { ok: false }>;

/**
 * Verifies the versions after `verified` (versions[i] is version verified.version + 1 + i)
 * with exactly the checks and codes of verifyHistory, as if the whole history were walked
 * again; from version 1 when nothing was verified before. `versions` counts only the new
 * ones, and `verified` is where the next resumption starts. Nothing new verifies as the
 * head kept.
 */
export async function resumeHistory(
  verified: VerifiedHead | undefined,
  versions: readonly HistoryVersion[],
  options: ResumeOptions = {},
): Promise<ResumeResult> {
  if (verified === undefined) {
    if (versions.length === 0) {
      return { ok: false, version: 1, code: 'empty-history', reason: 'version 1 is missing: the history is empty' };
    }
    return walk(new Walk(1, options.baseFile), 1, versions);
  }
  const policy = readPolicy(verified.policy);
  const head: Checked = {
    version: verified.version,
    sha256: await sha256Hex(verified.file),
    recordHash: verified.recordHash,
    registry: readRegistry(verified.file),
  };
  const w = new Walk(verified.version + 1, options.baseFile, {
    name: verified.registry,
    head,
    file: verified.file,
    policy,
    policySince: verified.policySince,
  });
  return walk(w, verified.version + 1, versions);
}

async function walk(
  w: Walk,
  first: number,
  versions: readonly HistoryVersion[],
  onVerified?: (version: number) => void | Promise<void>,
): Promise<ResumeResult> {
  try {
    for (const [i, version] of versions.entries()) {
      await w.check(first + i, version);
      await onVerified?.(first + i);
    }
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, version: error.version, code: error.code, reason: error.message };
    throw error;
  }
  return { ...w.result(), verified: w.head() };
}

interface Checked {
  readonly version: number;
  /** SHA-256 of the version's file. */
  readonly sha256: string;
  readonly recordHash: string;
  readonly registry: Registry;
}

/** Where a walk resumes: a head verified before and the policy in force after it. */
interface Start {
  readonly name: string;
  readonly head: Checked;
  readonly file: string;
  readonly policy: Policy;
  readonly policySince: number;
}

class Walk {
  readonly #from: number;
  readonly #baseFile: ((version: number) => Promise<string>) | undefined;
  /** The versions checked (or the head resumed from), by number. */
  readonly #checked = new Map<number, Checked>();
  /** Earlier versions' registries read through baseFile, when resuming. */
  readonly #bases = new Map<number, Registry>();
  #name: string | undefined;
  #last: Checked | undefined;
  #lastFile: string | undefined;
  #count = 0;
  #policy: Policy | undefined;
  #policySince = 1;

  constructor(from: number, baseFile?: (version: number) => Promise<string>, start?: Start) {
    this.#from = from;
    this.#baseFile = baseFile;
    if (start) {
      this.#name = start.name;
      this.#checked.set(start.head.version, start.head);
      this.#last = start.head;
      this.#lastFile = start.file;
      this.#policy = start.policy;
      this.#policySince = start.policySince;
    }
  }

  async check(n: number, version: HistoryVersion): Promise<void> {
    const record = readRecord(n, version.recordText);
    if (record.version > n) {
      throw new Refusal(
        n,
        'version-missing',
        `version ${n} is missing: got version ${record.version} at position ${n}`,
      );
    }
    if (record.version < n)
      refuse(n, 'version-out-of-order', `got version ${record.version} at position ${n}, out of order`);
    const name = this.#name ?? record.registry;
    if (record.registry !== name)
      refuse(n, 'registry-mismatch', `its record is for registry '${record.registry}', not '${name}'`);
    this.#name = name;
    const replayed = n > 1 && n >= this.#from ? await this.#replayedFile(n, record, version.file) : undefined;
    const registry = replayed?.registry ?? (await readFile(n, version.file, record));
    if (n === 1) this.#genesis(record, registry);
    else await this.#merge(n, record, version.file, replayed);
    const checked: Checked = {
      version: n,
      sha256: record.sha256,
      recordHash: await sha256Hex(version.recordText),
      registry,
    };
    this.#checked.set(n, checked);
    this.#last = checked;
    this.#lastFile = version.file;
    this.#count++;
  }

  result(): Extract<VerifyResult, { ok: true }> {
    const head = this.#last;
    if (!head || !this.#policy) throw new Error('nothing was verified');
    return {
      ok: true,
      versions: this.#count,
      head: { version: head.version, sha256: head.sha256 },
      policy: this.#policy.json,
    };
  }

  head(): VerifiedHead {
    const head = this.#last;
    if (!head || !this.#policy || this.#name === undefined || this.#lastFile === undefined)
      throw new Error('nothing was verified');
    return {
      registry: this.#name,
      version: head.version,
      recordHash: head.recordHash,
      file: this.#lastFile,
      policy: this.#policy.json,
      policySince: this.#policySince,
    };
  }

  /**
   * The version's file made by replaying its proposal, when that gives exactly its bytes: then
   * every check of readFile passes without reading the file again (the bytes are the
   * canonical form of a registry whose entries all read as Nix reads them: those the replay
   * kept were read with an earlier version, the others are read here). Undefined whenever
   * anything differs, and the whole file is read as before, so each refusal keeps its code.
   */
  async #replayedFile(
    n: number,
    record: VersionRecord,
    file: string,
  ): Promise<Extract<MergeResult, { ok: true }> | undefined> {
    const parent = this.#checked.get(n - 1);
    if (!parent || record.source.kind !== 'proposal') return undefined;
    const parsed = proposalSchema.safeParse(record.source.proposal);
    if (!parsed.success) return undefined;
    try {
      if (canonicalJson(parsed.data) !== canonicalJson(record.source.proposal)) return undefined;
    } catch (error) {
      if (error instanceof CanonicalJsonError) return undefined;
      throw error;
    }
    const proposal = parsed.data;
    if (proposal.base > n - 1 || proposal.base < 1) return undefined;
    const base = await this.#registryAt(proposal.base);
    const merged = replay(base, proposal.base, { version: n - 1, registry: parent.registry }, proposal);
    if (!merged.ok || merged.registry.entries.length !== record.entries) return undefined;
    if ((await sha256Hex(file)) !== record.sha256 || !isWrittenAs(merged.registry, file)) return undefined;
    // The entries the replay made are read as the file's reader reads them, and stand in for
    // the replay's own objects: the registry kept is the one readFile would have given.
    const known = new Set([...parent.registry.entries, ...base.entries]);
    const fresh = merged.registry.entries.filter((e) => !known.has(e));
    let read: Registry;
    try {
      read = readRegistry(writeRegistry({ entries: fresh }));
    } catch (error) {
      if (error instanceof NixError) return undefined;
      throw error;
    }
    if (read.entries.length !== fresh.length) return undefined;
    let next = 0;
    const entries = merged.registry.entries.map((e) => (known.has(e) ? e : (read.entries[next++] as RegistryEntry)));
    return { ...merged, registry: { entries } };
  }

  /** The registry of a version checked before: in this walk, or (resuming) read through baseFile. */
  async #registryAt(n: number): Promise<Registry> {
    const known = this.#checked.get(n)?.registry ?? this.#bases.get(n);
    if (known) return known;
    if (!this.#baseFile) throw new Error(`version ${n}'s file is needed to replay a proposal based on it`);
    const registry = readRegistry(await this.#baseFile(n));
    this.#bases.set(n, registry);
    return registry;
  }

  #genesis(record: VersionRecord, registry: Registry): void {
    if (record.parent !== null) refuse(1, 'genesis-parent', `its parent is ${record.parent}; version 1 has none`);
    if (record.source.kind !== 'embedded')
      refuse(1, 'genesis-source', "its source is a proposal; version 1 carries its genesis policy ('embedded')");
    let policy: Policy;
    try {
      policy = readPolicy(record.source.policy);
    } catch (error) {
      if (error instanceof PolicyError)
        refuse(1, 'genesis-policy-invalid', `its genesis policy is invalid: ${error.message}`);
      throw error;
    }
    if (record.policy !== policy.sha256) {
      refuse(
        1,
        'genesis-policy-hash',
        `its policy hash is ${record.policy}, its genesis policy hashes to ${policy.sha256}`,
      );
    }
    const summary = diffRegistries({ entries: [] }, registry).summary;
    if (canonicalJson(summary) !== canonicalJson(record.changes)) {
      refuse(1, 'genesis-changes', "its record's change summary is not its file's entries, added");
    }
    this.#policy = policy;
  }

  async #merge(
    n: number,
    record: VersionRecord,
    file: string,
    replayed: Extract<MergeResult, { ok: true }> | undefined,
  ): Promise<void> {
    const parent = this.#checked.get(n - 1);
    const inForce = this.#policy;
    if (!parent || !inForce) throw new Error('versions are checked in order');
    if (record.parent !== parent.recordHash) {
      refuse(
        n,
        'parent-hash-mismatch',
        `its parent is ${record.parent ?? 'null'}, but version ${n - 1}'s record hashes to ${parent.recordHash}`,
      );
    }
    if (record.policy !== inForce.sha256) {
      refuse(
        n,
        'policy-hash-mismatch',
        `its policy is ${record.policy}, but the policy in force (since version ${this.#policySince}) hashes to ${inForce.sha256}`,
      );
    }
    const source = record.source;
    if (source.kind !== 'proposal') refuse(n, 'source-not-proposal', "its source is 'embedded'; only version 1 may be");
    const proposal = readProposal(n, source.proposal);
    const bytes = proposalBytes(source.proposal);
    const id = await sha256Hex(bytes);
    if (id !== source.id) refuse(n, 'proposal-id-mismatch', `its proposal's id is ${id}, the record says ${source.id}`);
    if (proposal.registry !== record.registry) {
      refuse(
        n,
        'proposal-registry-mismatch',
        `its proposal is for registry '${proposal.registry}', not '${record.registry}'`,
      );
    }
    if (proposal.base > n - 1)
      refuse(n, 'proposal-base-invalid', `its proposal's base is version ${proposal.base}, not an earlier version`);
    checkDates(n, record, proposal);
    const proposed = readProposedPolicy(n, proposal);

    if (n >= this.#from) {
      await checkSignatures(n, signingMessage(bytes), source.signatures, inForce, proposed);
      // Replayed already when it gave the file's bytes (#replayedFile), from the same proposal.
      const merged =
        replayed ??
        replay(
          await this.#registryAt(proposal.base),
          proposal.base,
          { version: n - 1, registry: parent.registry },
          proposal,
        );
      if (!merged.ok) {
        const why =
          merged.reason === 'conflict'
            ? `conflicts: ${merged.entries.join(', ')} changed since its base, version ${proposal.base}`
            : `fails: ${merged.error.detail}`;
        refuse(
          n,
          merged.reason === 'conflict' ? 'replay-conflict' : 'replay-failed',
          `replaying proposal ${id} on version ${n - 1} ${why}`,
        );
      }
      if (replayed === undefined && writeRegistry(merged.registry) !== file) {
        refuse(
          n,
          'replay-bytes-differ',
          `replaying proposal ${id} on version ${n - 1} gives other bytes than its file`,
        );
      }
      if (canonicalJson(merged.summary) !== canonicalJson(record.changes)) {
        refuse(
          n,
          'replay-changes-differ',
          `its record's change summary is not what replaying proposal ${id} on version ${n - 1} changes`,
        );
      }
    }
    if (proposed) {
      this.#policy = proposed;
      this.#policySince = n + 1;
    }
  }
}

function readRecord(n: number, text: string): VersionRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    refuse(n, 'record-not-json', `its record is not JSON: ${(error as Error).message}`);
  }
  const parsed = versionRecordSchema.safeParse(json);
  if (!parsed.success)
    refuse(n, 'record-invalid', `its record is not a version record: ${firstIssue(parsed.error.issues)}`);
  let canonical: string | undefined;
  try {
    canonical = canonicalJson(parsed.data);
  } catch (error) {
    if (!(error instanceof CanonicalJsonError)) throw error;
  }
  if (canonical !== text)
    refuse(
      n,
      'record-not-canonical',
      'its record is not canonical JSON (RFC 8785), the only form records are served in',
    );
  return parsed.data;
}

async function readFile(n: number, file: string, record: VersionRecord): Promise<Registry> {
  const sha256 = await sha256Hex(file);
  if (sha256 !== record.sha256)
    refuse(n, 'file-hash-mismatch', `its file's SHA-256 is ${sha256}, the record says ${record.sha256}`);
  let registry: Registry;
  let written: string;
  try {
    registry = readRegistry(file);
    written = writeRegistry(registry);
  } catch (error) {
    if (error instanceof NixError)
      refuse(n, 'file-unreadable', `its file does not read whole as Nix reads it: ${error.message}`);
    throw error;
  }
  if (written !== file)
    refuse(
      n,
      'file-not-canonical',
      'its file is not in the form registry files are written in (as `nix registry` writes them)',
    );
  if (record.entries !== registry.entries.length) {
    refuse(
      n,
      'entry-count-mismatch',
      `its record counts ${record.entries} entries, its file has ${registry.entries.length}`,
    );
  }
  return registry;
}

function readProposal(n: number, raw: Record<string, unknown>): Proposal {
  const parsed = proposalSchema.safeParse(raw);
  if (!parsed.success) refuse(n, 'proposal-invalid', `its proposal is invalid: ${firstIssue(parsed.error.issues)}`);
  // What is replayed must be exactly what was signed.
  if (canonicalJson(parsed.data) !== canonicalJson(raw))
    refuse(n, 'proposal-extra-members', 'its proposal holds more than a proposal can carry');
  return parsed.data;
}

function checkDates(n: number, record: VersionRecord, proposal: Proposal): void {
  const merged = Date.parse(record.created);
  if (merged >= Date.parse(proposal.expires)) {
    refuse(
      n,
      'merged-after-expiry',
      `it was made at ${record.created}, when its proposal had expired (at ${proposal.expires})`,
    );
  }
  // The writer takes a proposal dated a little ahead of its clock (MAX_CLOCK_SKEW_MS).
  if (merged < Date.parse(proposal.created) - MAX_CLOCK_SKEW_MS) {
    refuse(
      n,
      'merged-before-created',
      `it was made at ${record.created}, before its proposal was created (at ${proposal.created})`,
    );
  }
}

function readProposedPolicy(n: number, proposal: Proposal): Policy | undefined {
  const json = proposedPolicy(proposal);
  try {
    return json && readPolicy(json);
  } catch (error) {
    if (error instanceof PolicyError)
      refuse(n, 'proposed-policy-invalid', `its proposal sets an invalid policy: ${error.message}`);
    throw error;
  }
}

async function checkSignatures(
  n: number,
  message: Uint8Array,
  signatures: readonly string[],
  inForce: Policy,
  proposed: Policy | undefined,
): Promise<void> {
  const attributed = await attributeSignatures(message, signatures, candidateKeys(inForce, proposed));
  if (!attributed.ok) {
    refuse(n, SIGNATURE_CODES[attributed.problem.kind], signatureReason(attributed.problem, proposed !== undefined));
  }
  const ids = attributed.signatures.map((s) => s.key.id);
  const old = tally(inForce, ids);
  if (!met(old)) {
    refuse(
      n,
      'threshold-not-met',
      `it has ${old.have} of the ${old.need} signatures the policy in force needs (${signers(old.signers)})`,
    );
  }
  const next = proposed && tally(proposed, ids);
  if (next && !met(next)) {
    refuse(
      n,
      'new-threshold-not-met',
      `it changes the policy with ${next.have} of the ${next.need} signatures the new policy needs (${signers(next.signers)})`,
    );
  }
}

const SIGNATURE_CODES: Record<SignatureProblem['kind'], VerifyCode> = {
  'malformed-signature': 'signature-malformed',
  'untrusted-key': 'signature-untrusted',
  'bad-signature': 'signature-bad',
  'duplicate-signer': 'signature-duplicate',
};

const signers = (names: readonly string[]): string => (names.length === 0 ? 'none' : `signed: ${names.join(', ')}`);

function signatureReason(problem: SignatureProblem, changesPolicy: boolean): string {
  const policies = changesPolicy ? 'the policy in force or of the one it proposes' : 'the policy in force';
  switch (problem.kind) {
    case 'malformed-signature':
      return `signature ${shown(problem.signature)} is malformed: ${problem.detail}`;
    case 'untrusted-key':
      return `signature ${shown(problem.signature)} is not by a key of ${policies}${problem.detail === undefined ? '' : ` (${problem.detail})`}`;
    case 'bad-signature':
      return problem.detail === undefined
        ? `signature ${shown(problem.signature)} does not verify with any key of ${policies}: it was made over other bytes or by another key`
        : `signature ${shown(problem.signature)} is refused: ${problem.detail}`;
    case 'duplicate-signer':
      return `signatures ${shown(problem.signatures[0])} and ${shown(problem.signatures[1])} are by one key ('${problem.key}'); a key counts once`;
  }
}
