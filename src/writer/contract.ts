import type { ChangeSummary } from '../nix/diff.js';
import type { Finding } from '../nix/lint.js';
import type { PolicyDiff, PolicyJson } from '../protocol/policy.js';
import type { Proposal } from '../protocol/proposal.js';
import type { ImpactLine } from '../protocol/review.js';
import type { VersionRecord } from '../protocol/record.js';
import type { Head } from '../store/records.js';

/** What the writer's RPC methods answer: plain data, so it crosses the RPC boundary as is. */

export type ProposalStatus = 'open' | 'merged' | 'conflict' | 'failed';
export const PROPOSAL_STATUSES: readonly ProposalStatus[] = ['open', 'merged', 'conflict', 'failed'];

export interface ThresholdView {
  readonly have: number;
  readonly need: number;
  /** Names of the policy's keys that signed, as the policy lists them. */
  readonly signers: readonly string[];
  /** Names of its keys that have not signed: who can still help meet this threshold. */
  readonly remaining: readonly string[];
}

/** What a proposal does, as reviewed against the head named in `head`. */
export interface ReviewView {
  /** The proposal's own changes against its base version. */
  readonly base: { readonly version: number; readonly changes: ChangeSummary };
  /** The version it was reviewed against (the head then), and what it changes there. */
  readonly head: number;
  readonly changes: ChangeSummary;
  /** Findings the change introduces: warnings only (errors refuse it). */
  readonly lint: readonly Finding[];
  readonly impact: readonly ImpactLine[];
  /** For a policy change: the keys it adds, removes and renames, and the threshold before and after. */
  readonly policy?: PolicyDiff;
  /** Rows left out of a very large review (the first 500 of each are kept). */
  readonly lintOmitted?: number;
  readonly impactOmitted?: number;
}

/** A proposal in a listing: enough to choose one to show. */
export interface ProposalSummary {
  readonly id: string;
  readonly status: ProposalStatus;
  readonly base: number;
  readonly message: string;
  readonly submitted: string;
  readonly expires: string;
  /** Distinct trusted keys that signed. */
  readonly signatures: number;
  readonly version?: number;
}

export interface ProposalView {
  readonly id: string;
  readonly registry: string;
  readonly status: ProposalStatus;
  readonly proposal: Proposal;
  readonly submitted: string;
  readonly signatures: readonly { readonly key: string; readonly signature: string; readonly added: string }[];
  readonly approvals: {
    /** The policy the signatures are counted against: in force now, or the one that merged it. */
    readonly policy: ThresholdView & { readonly sha256: string; readonly since: number };
    /** Present when the proposal changes the policy: the new policy's threshold must be met too. */
    readonly newPolicy?: ThresholdView;
    /**
     * How many more distinct keys must sign, at the least, before it merges (0 once
     * merged): a key both policies list counts for both.
     */
    readonly missing: number;
  };
  readonly review: ReviewView;
  /** The version it became. */
  readonly version?: number;
  /** Why it can no longer merge (status conflict or failed). */
  readonly outcome?: { readonly reason: string; readonly detail: string; readonly entries?: readonly string[] };
}

/** A version the writer has just made, for the isolate that asked to serve at once. */
export interface MergedVersion {
  readonly head: Head;
  readonly record: VersionRecord;
  readonly body: string;
}

/** Kinds of refusal; each is a problem type of the HTTP API (src/http/problem.ts). */
export type WriteProblemKind =
  | 'malformed-signature'
  | 'untrusted-key'
  | 'bad-signature'
  | 'duplicate-signer'
  | 'expired'
  | 'not-yet-valid'
  | 'unknown-base'
  | 'conflict'
  | 'invalid-change'
  | 'lint-failed'
  | 'no-change'
  | 'invalid-policy'
  | 'unknown-proposal'
  | 'not-open';

export interface WriteProblem {
  readonly kind: WriteProblemKind;
  readonly detail: string;
  readonly extensions?: Readonly<Record<string, unknown>>;
}

export type WriteOutcome =
  | {
      readonly ok: true;
      /** A new proposal (201), or one that existed already (200). */
      readonly created: boolean;
      readonly view: ProposalView;
      readonly merged?: MergedVersion;
    }
  | { readonly ok: false; readonly problem: WriteProblem };

export interface PolicyView extends PolicyJson {
  readonly sha256: string;
  /** The version from which this policy is in force. */
  readonly since: number;
}

/** The writer's RPC methods, as the Durable Object implements them (writer.ts). */
export interface WriterMethods {
  submit(proposal: Proposal, signatures: readonly string[]): Promise<WriteOutcome>;
  approve(id: string, signature: string): Promise<WriteOutcome>;
  proposal(id: string): ProposalView | undefined;
  proposals(status: ProposalStatus | undefined, limit: number): ProposalSummary[];
  policy(): PolicyView | undefined;
}

/**
 * The writer as its callers see it over RPC, where every method answers a
 * promise. The generated stub types give up on result types this deep, so
 * callers take the stub as this type; the compiler checks the class against
 * WriterMethods, from which this is made.
 */
export type WriterRpc = {
  readonly [K in keyof WriterMethods]: (
    ...args: Parameters<WriterMethods[K]>
  ) => Promise<Awaited<ReturnType<WriterMethods[K]>>>;
};
