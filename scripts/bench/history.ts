import { formatSignature, type SecretKey } from '../../src/crypto/keys.js';
import { sha256HexSync } from '../../src/crypto/sha256.js';
import { lintRegistry } from '../../src/nix/lint.js';
import { readRegistry } from '../../src/nix/registry.js';
import type { Change } from '../../src/protocol/changes.js';
import { readPolicy, type Policy, type PolicyJson } from '../../src/protocol/policy.js';
import { proposalSchema, proposedPolicy, type Proposal } from '../../src/protocol/proposal.js';
import { recordText, type VersionRecord } from '../../src/protocol/record.js';
import { review } from '../../src/protocol/review.js';
import { nextVersion } from '../../src/protocol/versions.js';
import { proposalBytes, signingMessage, signProposal } from '../../src/protocol/signing.js';
import type { HistoryVersion } from '../../src/protocol/verify.js';
import { prepareSeed } from '../../src/store/seed.js';

/**
 * Registry histories made as the writer makes them: version 1 by prepareSeed,
 * every later one by review() and nextVersion() over a proposal signed with
 * signProposal. Thresholds are not enforced here: that is what the verifier
 * is tested for. The benchmark verifies such histories; the tests build theirs on it.
 */

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString();

/** A signer: a key, or a function of the signing message returning a signature text (an SSH signature). */
export type Signer = SecretKey | ((message: Uint8Array) => string);

export interface MergeOptions<S = Signer> {
  /** Who signs. */
  readonly signers: readonly S[];
  /** The version the proposal is written against; the head by default. */
  readonly base?: number;
  readonly message?: string;
  /** When the version is made; an hour after the previous one by default. */
  readonly mergedAt?: string;
  /** The proposal's lifetime from its `created`, a minute before it merges. */
  readonly lifetimeMs?: number;
}

export class HistoryBuilder {
  readonly versions: HistoryVersion[] = [];
  readonly records: VersionRecord[] = [];
  #policy: Policy;

  constructor(name: string, file: unknown, policy: PolicyJson, created: string) {
    const seed = prepareSeed({ name, file, policy, created });
    this.versions.push({ recordText: recordText(seed.record), file: seed.body });
    this.records.push(seed.record);
    this.#policy = readPolicy(policy);
  }

  get head(): number {
    return this.versions.length;
  }

  /** The policy the next version is made under. */
  get policy(): PolicyJson {
    return this.#policy.json;
  }

  /** Signs a proposal of `changes` and merges it as the writer would; throws if review refuses it. */
  async merge(changes: readonly Change[], options: MergeOptions): Promise<VersionRecord> {
    const parent = this.records[this.head - 1] as VersionRecord;
    const mergedAt = options.mergedAt ?? iso(Date.parse(parent.created) + HOUR);
    const created = Date.parse(mergedAt) - 60_000;
    const proposal: Proposal = proposalSchema.parse({
      registry: parent.registry,
      base: options.base ?? this.head,
      changes,
      message: options.message ?? `change ${this.head + 1}`,
      created: iso(created),
      expires: iso(created + (options.lifetimeMs ?? 7 * DAY)),
    });
    const signatures: string[] = [];
    for (const signer of options.signers) {
      signatures.push(
        typeof signer === 'function'
          ? signer(signingMessage(proposalBytes(proposal)))
          : formatSignature(await signProposal(signer, proposal)),
      );
    }
    const base = readRegistry(this.#file(proposal.base));
    const headRegistry = readRegistry(this.#file(this.head));
    const head = { version: this.head, registry: headRegistry, findings: lintRegistry(headRegistry) };
    const reviewed = review(base, head, proposal);
    if (!reviewed.ok) throw new Error(`review refused the proposal: ${JSON.stringify(reviewed)}`);
    const next = nextVersion({
      parent,
      parentHash: sha256HexSync(this.versions[this.head - 1]?.recordText ?? ''),
      policySha256: this.#policy.sha256,
      id: sha256HexSync(proposalBytes(proposal)),
      proposal,
      signatures,
      registry: reviewed.registry,
      summary: reviewed.summary,
      created: mergedAt,
    });
    this.versions.push({ recordText: recordText(next.record), file: next.body });
    this.records.push(next.record);
    const changed = proposedPolicy(proposal);
    if (changed) this.#policy = readPolicy(changed);
    return next.record;
  }

  #file(version: number): string {
    const v = this.versions[version - 1];
    if (!v) throw new Error(`no version ${version}`);
    return v.file;
  }
}
