import type { Registry } from '../nix/registry.js';
import { canonicalJson } from '../protocol/canonical.js';
import type { Policy } from '../protocol/policy.js';
import { MAX_CLOCK_SKEW_MS, type Proposal } from '../protocol/proposal.js';
import { recordHash, type VersionRecord } from '../protocol/record.js';
import { review, type Review, type ReviewHead } from '../protocol/review.js';
import { nextVersion } from '../protocol/versions.js';
import { candidateKeys, met, tally, type Attributed } from '../protocol/signatures.js';
import { formatSignature, parseSignature } from '../crypto/keys.js';
import { formatTrustedKey } from '../crypto/trusted-key.js';
import type { ProposalStatus } from './contract.js';
import { reviewProblem, reviewView } from './outcomes.js';
import type { ProposalRow, SignatureRow } from './sql.js';
import type { WriteProblem } from './contract.js';
import { lintRegistry } from '../nix/lint.js';

/**
 * The writer's decisions, apart from their effects: each is a pure function of
 * what the registry's storage holds (read through `WriterState`) and the
 * request, returning the writes to make and a tagged outcome. The Durable Object
 * runs them inside one storage transaction and applies the writes (writer.ts);
 * tests can run them on any state.
 */

/** The head as the writer keeps it: parsed, linted once, its record hashed once. */
export interface LoadedHead extends ReviewHead {
  readonly record: VersionRecord;
  readonly recordHash: string;
}

export interface PolicyInForce {
  readonly policy: Policy;
  /** The version from which it is in force (1 for the genesis policy). */
  readonly since: number;
}

/** What decisions read: the registry's storage as it is at this point of the transaction. */
export interface WriterState {
  readonly head: LoadedHead;
  registryAt(version: number): Registry;
  /** The policy in force now: the one the next version must be signed under. */
  readonly policy: PolicyInForce;
  /** Every policy the registry has had, oldest first. */
  readonly policies: readonly PolicyInForce[];
  proposal(id: string): ProposalRow | undefined;
  proposalBody(id: string): Proposal;
  proposedPolicy(id: string): Policy | undefined;
  signatures(id: string): readonly SignatureRow[];
  openProposals(): readonly ProposalRow[];
  expiredProposals(now: number): readonly string[];
}

export type Write =
  | { readonly op: 'add-proposal'; readonly row: ProposalRow; readonly body: string; readonly review: string }
  | { readonly op: 'add-signature'; readonly proposal: string; readonly row: SignatureRow }
  | {
      readonly op: 'close';
      readonly proposal: string;
      readonly status: Exclude<ProposalStatus, 'open'>;
      readonly version: number | null;
      readonly outcome: string | null;
    }
  /** A new version: its file and record, with the head it becomes (kept in memory once committed). */
  | { readonly op: 'add-version'; readonly head: LoadedHead; readonly body: string; readonly policy?: Policy }
  | { readonly op: 'drop-proposals'; readonly ids: readonly string[] };

export type Decided =
  | { readonly ok: true; readonly id: string; readonly created: boolean }
  | { readonly ok: false; readonly problem: WriteProblem };

export interface Decision {
  readonly writes: readonly Write[];
  readonly outcome: Decided;
}

const refused = (problem: WriteProblem): Decision => ({ writes: [], outcome: { ok: false, problem } });

/** Open proposals past their expiry leave storage, signatures and all. */
export function decideExpiry(state: WriterState, now: number): Write[] {
  const ids = state.expiredProposals(now);
  return ids.length === 0 ? [] : [{ op: 'drop-proposals', ids }];
}

export interface SignedRequest {
  readonly id: string;
  readonly proposal: Proposal;
  /** The proposal's policy change, read; undefined when it changes no policy. */
  readonly proposed: Policy | undefined;
  /** Signatures that verified, each with the key that made it (already checked against every candidate key). */
  readonly signatures: readonly Attributed[];
}

/** A submission: a new proposal is reviewed and stored; a known one takes the signatures as approvals. */
export function decideSubmission(state: WriterState, now: number, request: SignedRequest): Decision {
  const { id, proposal, proposed, signatures } = request;
  const existing = state.proposal(id);
  if (existing) return signaturesFor(state, now, existing, request);
  const head = state.head;
  if (proposal.base > head.version) {
    return refused({
      kind: 'unknown-base',
      detail: `base ${proposal.base} is not a version of registry '${head.record.registry}' (the latest is ${head.version})`,
    });
  }
  if (Date.parse(proposal.expires) <= now) {
    return refused({ kind: 'expired', detail: `the proposal expired at ${proposal.expires}` });
  }
  if (Date.parse(proposal.created) > now + MAX_CLOCK_SKEW_MS) {
    return refused({ kind: 'not-yet-valid', detail: `the proposal is dated ${proposal.created}, in the future` });
  }
  const inForce = state.policy.policy;
  if (tally(inForce, ids(signatures)).have === 0) {
    return refused({
      kind: 'untrusted-key',
      detail: `no signature is by a key the policy in force trusts (${inForce.keys.map((k) => k.name).join(', ')})`,
    });
  }
  const reviewed = reviewAgainst(state, proposal, proposed);
  if (!reviewed.ok) return refused(reviewProblem(reviewed, head.version));
  const row: ProposalRow = {
    id,
    base: proposal.base,
    message: proposal.message,
    expires_ms: Date.parse(proposal.expires),
    submitted: new Date(now).toISOString(),
    status: 'open',
    version: null,
    outcome: null,
  };
  const view = reviewView(proposal.base, head.version, reviewed, proposed && state.policy.policy, proposed);
  return {
    writes: [
      // Stored as its canonical JSON: the bytes its id and signatures cover.
      { op: 'add-proposal', row, body: canonicalJson(proposal), review: JSON.stringify(view) },
      ...signatureWrites(state, id, signatures, proposed, now),
    ],
    outcome: { ok: true, id, created: true },
  };
}

/** An approval of a stored proposal. */
export function decideApproval(state: WriterState, now: number, request: SignedRequest): Decision {
  const row = state.proposal(request.id);
  if (!row) {
    return refused({ kind: 'expired', detail: `proposal ${request.id} expired and was removed` });
  }
  return signaturesFor(state, now, row, request);
}

/**
 * Signatures for a proposal that exists, by either route: counted while it is
 * open; once it is closed, a signature that was counted already is the same
 * request again (200), and any other can no longer count (409 not-open).
 */
function signaturesFor(state: WriterState, now: number, row: ProposalRow, request: SignedRequest): Decision {
  if (row.status !== 'open') {
    const recorded = new Set(state.signatures(row.id).map((s) => s.key_id));
    if (request.signatures.every((s) => recorded.has(s.key.id))) {
      return { writes: [], outcome: { ok: true, id: row.id, created: false } };
    }
    const status = row.status === 'conflict' ? 'in conflict' : row.status;
    return refused({
      kind: 'not-open',
      detail: `proposal ${row.id} is ${status}${row.version === null ? '' : ` (version ${row.version})`}; a signature it does not carry can no longer count`,
      extensions: { proposalStatus: row.status },
    });
  }
  return {
    writes: signatureWrites(state, row.id, request.signatures, request.proposed, now),
    outcome: { ok: true, id: row.id, created: false },
  };
}

/**
 * One row per key the policy in force or the proposed one lists, under the name the policy
 * gives it: a Nix signature is stored renamed so, an SSH signature (which names no key) as
 * it was given, so the record carries what the maintainer's ssh-keygen wrote.
 */
function signatureWrites(
  state: WriterState,
  id: string,
  signatures: readonly Attributed[],
  proposed: Policy | undefined,
  now: number,
): Write[] {
  const trusted = candidateKeys(state.policy.policy, proposed);
  const recorded = new Set(state.signatures(id).map((s) => s.key_id));
  const writes: Write[] = [];
  for (const { text, form, key } of signatures) {
    const listed = trusted.find((k) => k.id === key.id);
    if (!listed || recorded.has(key.id)) continue;
    recorded.add(key.id);
    writes.push({
      op: 'add-signature',
      proposal: id,
      row: {
        key_id: key.id,
        key: formatTrustedKey(listed),
        signature: form === 'ssh' ? text : formatSignature({ name: listed.name, bytes: parseSignature(text).bytes }),
        added: new Date(now).toISOString(),
      },
    });
  }
  return writes;
}

/**
 * Whether an open proposal merges now: when the signatures stored for it meet
 * the threshold of the policy in force (and of the policy it proposes), it
 * merges into the next version or closes with the reason it cannot; below the
 * threshold it stays open, unless it is a policy change that can never merge.
 */
export function decideMerge(state: WriterState, now: number, id: string): Write[] {
  const row = state.proposal(id);
  if (!row || row.status !== 'open') return [];
  const proposal = state.proposalBody(id);
  const proposed = state.proposedPolicy(id);
  const inForce = state.policy.policy;
  const keys = state.signatures(id).map((s) => s.key_id);
  const ready = met(tally(inForce, keys)) && (!proposed || met(tally(proposed, keys)));
  // A policy change overtaken by another can never merge: say so now, not at the threshold.
  const overtaken = proposed ? policyConflict(state, proposal) : undefined;
  if (!ready && !overtaken) return [];
  const head = state.head;
  const result = overtaken ?? reviewAgainst(state, proposal, proposed);
  if (!result.ok) {
    const p = reviewProblem(result, head.version);
    const status = result.reason === 'conflict' ? 'conflict' : 'failed';
    return [close(id, status, { reason: p.kind, detail: p.detail, ...p.extensions })];
  }
  // Version times never run ahead of the clock, and still order versions: a
  // millisecond after the parent's at least (several merges may share a second;
  // see the Last-Modified rule in docs/storage.md).
  const time = Math.max(now, Date.parse(head.record.created) + 1);
  if (time >= Date.parse(proposal.expires)) {
    // The writer's clock passed the expiry between the check and the merge: the
    // signed change is not lost silently, it says why it did not merge.
    return [
      close(id, 'failed', {
        reason: 'expired',
        detail: `it reached its thresholds at ${new Date(time).toISOString()}, after it expired (at ${proposal.expires})`,
      }),
    ];
  }
  const trusted = new Set(candidateKeys(inForce, proposed).map((k) => k.id));
  const next = nextVersion({
    parent: head.record,
    parentHash: head.recordHash,
    policySha256: inForce.sha256,
    id,
    proposal,
    // Only what counts now: a key an earlier policy change removed would make the record unverifiable.
    signatures: state
      .signatures(id)
      .filter((s) => trusted.has(s.key_id))
      .map((s) => s.signature),
    registry: result.registry,
    summary: result.summary,
    created: new Date(time).toISOString(),
  });
  const newHead: LoadedHead = {
    version: next.record.version,
    registry: result.registry,
    findings: result.resultFindings,
    record: next.record,
    recordHash: recordHash(next.record),
  };
  return [
    { op: 'add-version', head: newHead, body: next.body, ...(proposed ? { policy: proposed } : {}) },
    { op: 'close', proposal: id, status: 'merged', version: next.record.version, outcome: null },
  ];
}

const close = (proposal: string, status: 'conflict' | 'failed', outcome: Readonly<Record<string, unknown>>): Write => ({
  op: 'close',
  proposal,
  status,
  version: null,
  outcome: JSON.stringify(outcome),
});

const ids = (signatures: readonly Attributed[]): string[] => signatures.map((s) => s.key.id);

/**
 * The review, and two rules about policies: a policy change made on a base
 * older than the policy in force conflicts with it (it was signed without
 * knowing it), and one that sets the policy in force changes nothing.
 */
function reviewAgainst(state: WriterState, proposal: Proposal, proposed: Policy | undefined): Review {
  const overtaken = proposed ? policyConflict(state, proposal) : undefined;
  if (overtaken) return overtaken;
  const reviewed = review(state.registryAt(proposal.base), state.head, proposal);
  if (proposed && reviewed.ok && proposed.sha256 === state.policy.policy.sha256) {
    const { added, removed, changed, moved } = reviewed.summary;
    if (added.length + removed.length + changed.length + moved.length === 0) return { ok: false, reason: 'no-change' };
  }
  return reviewed;
}

function policyConflict(state: WriterState, proposal: Proposal): Review | undefined {
  const since = state.policy.since;
  if (since <= proposal.base) return undefined;
  return { ok: false, reason: 'conflict', entries: [`the policy (changed by version ${since})`] };
}

/** A head read from storage: what the writer keeps in memory between requests. */
export function loadHead(record: VersionRecord, registry: Registry): LoadedHead {
  return {
    version: record.version,
    registry,
    findings: lintRegistry(registry),
    record,
    recordHash: recordHash(record),
  };
}
