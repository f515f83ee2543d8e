import type { Head, PolicyAnswer, ProposalStatus, ProposalSummary, ProposalView } from '../api/answers.js';
import type { ProblemKind, ProblemMembers } from '../api/problems.js';
import type { Proposal } from '../protocol/proposal.js';
import type { VersionRecord } from '../protocol/record.js';

/**
 * What the writer's RPC methods answer: plain data, so it crosses the RPC
 * boundary as is. The shapes clients see are the API's (src/api/answers.ts);
 * this adds only what passes between the writer and the routes.
 */

export type { ProposalStatus, ProposalSummary, ProposalView, ReviewView, ThresholdView } from '../api/answers.js';
export { PROPOSAL_STATUSES } from '../api/answers.js';

/** A version the writer has just made, for the isolate that asked to serve at once. */
export interface MergedVersion {
  readonly head: Head;
  readonly record: VersionRecord;
  readonly body: string;
}

/** Kinds of refusal; each is a problem type of the HTTP API (src/api/problems.ts). */
export type WriteProblemKind = Extract<
  ProblemKind,
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
  | 'not-open'
>;

/** A refusal with the members its problem kind carries. */
export type WriteProblem = {
  readonly [K in WriteProblemKind]: {
    readonly kind: K;
    readonly detail: string;
    readonly extensions?: ProblemMembers<K>;
  };
}[WriteProblemKind];

export type WriteOutcome =
  | {
      readonly ok: true;
      /** A new proposal (201), or one that existed already (200). */
      readonly created: boolean;
      readonly view: ProposalView;
      readonly merged?: MergedVersion;
    }
  | { readonly ok: false; readonly problem: WriteProblem };

/** `GET /registries/NAME/policy` without the registry's name. */
export type PolicyView = Omit<PolicyAnswer, 'registry'>;

/** The writer's RPC methods, as the Durable Object implements them (writer.ts). */
export interface WriterMethods {
  submit(proposal: Proposal, signatures: readonly string[]): Promise<WriteOutcome>;
  approve(id: string, signature: string): Promise<WriteOutcome>;
  proposal(id: string): ProposalView | undefined;
  proposals(status: ProposalStatus | undefined, limit: number): ProposalSummary[];
  policy(): PolicyView | undefined;
  checkpoint(): Promise<string | undefined>;
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
