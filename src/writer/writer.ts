import { DurableObject } from 'cloudflare:workers';
import type { TrustedKey } from '../crypto/trusted-key.js';
import { logOrigin, readLogKey } from '../log/origin.js';
import { sha256HexSync } from '../crypto/sha256.js';
import { PolicyError, readPolicy, type Policy } from '../protocol/policy.js';
import { proposedPolicy, type Proposal } from '../protocol/proposal.js';
import {
  attributeSignatures,
  candidateKeys,
  signatureIdentity,
  signatureLabel,
  signedBy,
  type Attribution,
} from '../protocol/signatures.js';
import { proposalBytes, signingMessage } from '../protocol/signing.js';
import type { Head } from '../store/records.js';
import type { SeedVersion } from '../store/seed.js';
import type {
  MergedVersion,
  PolicyView,
  ProposalStatus,
  ProposalSummary,
  ProposalView,
  ReviewView,
  WriteOutcome,
  WriteProblem,
  WriterMethods,
} from './contract.js';
import {
  decideApproval,
  decideExpiry,
  decideMerge,
  decideSubmission,
  type Decision,
  type SignedRequest,
} from './decide.js';
import { headOf, signatureProblem, unknownProposal } from './outcomes.js';
import { WriterLog } from './log.js';
import { Publisher, type LogSigning } from './publish.js';
import { WriterSql } from './sql.js';
import { META, textKeys } from './tables.js';
import { StoredState } from './state.js';
import { proposalSummary, proposalView } from './views.js';

/** How many proposals one transaction settles after a policy change (each merge is a review). */
const SETTLE_BATCH = 16;

interface WriterEnv {
  readonly REGISTRY_KV: KVNamespace;
  /** The log's signing key, in Nix's secret-key format (a Worker secret; `.dev.vars` locally). */
  readonly LOG_SIGNING_KEY?: string;
}

/**
 * The single writer of one registry (one object per registry name). Every
 * decision (signatures counted, base check, lint, version number) is a pure
 * function of its storage (decide.ts), taken and applied in one synchronous
 * transaction of its own SQLite storage; only signature checking (WebCrypto)
 * awaits, before it. KV is a replica, written afterwards by the Publisher and
 * retried from the alarm until it has everything.
 */
export class RegistryWriter extends DurableObject<WriterEnv> implements WriterMethods {
  readonly #sql: WriterSql;
  readonly #state: StoredState;
  readonly #log: WriterLog;
  readonly #publisher: Publisher;
  #signing: { text: string; signing: LogSigning | undefined } | undefined;

  constructor(ctx: DurableObjectState, env: WriterEnv) {
    super(ctx, env);
    this.#sql = new WriterSql(ctx.storage.sql);
    this.#log = new WriterLog(this.#sql);
    this.#state = new StoredState(this.#sql, this.#log);
    this.#publisher = new Publisher(
      ctx,
      this.#sql,
      () => this.env.REGISTRY_KV,
      this.#log,
      () => this.#logSigning(),
      (version) => this.#state.registryAt(version),
    );
  }

  /**
   * The log key, read once per value. Without one the log's leaves and tiles
   * are kept and served all the same; only checkpoints wait for a key.
   */
  async #logSigning(): Promise<LogSigning | undefined> {
    const text = this.env.LOG_SIGNING_KEY?.trim() ?? '';
    if (this.#signing?.text === text) return this.#signing.signing;
    const read = await readLogKey(text);
    // A key that cannot be used stops checkpoints, never the registry's publishing;
    // the checkpoint route says what is wrong with it.
    if (read && 'problem' in read) console.error(`${read.problem}; no checkpoint is signed`);
    const signing: LogSigning | undefined =
      read && 'key' in read ? { key: read.key, origin: (registry) => logOrigin(read.key.name, registry) } : undefined;
    this.#signing = { text, signing };
    return signing;
  }

  /**
   * The registry's head, creating version 1 from `seed` when the registry has
   * never been written, published to KV before it returns (readers read KV next).
   * A KV that does not take it is storage trouble, told as such (not thrown: a
   * throw from here would be a bug).
   */
  async seed(seed: SeedVersion): Promise<Head | { readonly unpublished: string }> {
    if (!this.#state.seeded) {
      this.ctx.storage.transactionSync(() => {
        if (this.#state.seeded) return;
        const policy = seed.record.source.kind === 'embedded' ? seed.record.source.policy : undefined;
        if (!policy) throw new Error('version 1 must carry its genesis policy');
        this.#sql.addVersion(seed.record, seed.body);
        this.#log.append(seed.record);
        this.#sql.addPolicy(1, seed.record.policy, policy);
      });
      // Readers read version 1 from KV next: a failure here is theirs to report (503).
      if ((await this.#publisher.publish()) === 'failed') return { unpublished: 'KV did not take version 1' };
    } else {
      await this.#publisher.repair();
    }
    return this.#headPointer();
  }

  /** The newest version, as the writer knows it (KV may not show it yet). */
  head(): Head | undefined {
    return this.#state.seeded ? this.#headPointer() : undefined;
  }

  submit(proposal: Proposal, signatures: readonly string[]): Promise<WriteOutcome> {
    return this.submitAt(Date.now(), proposal, signatures);
  }

  approve(id: string, signature: string): Promise<WriteOutcome> {
    return this.approveAt(Date.now(), id, signature);
  }

  proposal(id: string): ProposalView | undefined {
    this.#expire(Date.now());
    const row = this.#state.proposal(id);
    return row && proposalView(this.#state, row, this.#review(id));
  }

  /** Proposals newest first, as summaries: a proposal's whole view can be large. */
  proposals(status: ProposalStatus | undefined, limit: number): ProposalSummary[] {
    this.#expire(Date.now());
    return this.#sql.proposals(status, limit).map((row) => proposalSummary(this.#state, row));
  }

  /**
   * The newest checkpoint note, after publishing what KV lacks (a reader found
   * none in KV: it lags, or the log key was set after the last merge).
   */
  async checkpoint(): Promise<string | undefined> {
    await this.#publisher.publish();
    return this.#sql.text(textKeys.checkpoint);
  }

  policy(): PolicyView | undefined {
    const row = this.#sql.policy();
    return row && { ...row.json, sha256: row.sha256, since: row.since };
  }

  override async alarm(): Promise<void> {
    await this.maintain(Date.now());
  }

  /** The alarm's work: expired proposals leave storage, and KV gets whatever it lacks. */
  async maintain(now: number): Promise<void> {
    this.#expire(now);
    await this.#settleAll(now);
    await this.#publisher.publish();
    await this.#publisher.schedule(this.#sql.nextExpiry());
  }

  async submitAt(now: number, proposal: Proposal, texts: readonly string[]): Promise<WriteOutcome> {
    const bytes = proposalBytes(proposal);
    const id = sha256HexSync(bytes);
    let proposed: Policy | undefined;
    try {
      const json = proposedPolicy(proposal);
      proposed = json && readPolicy(json);
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      return { ok: false, problem: { kind: 'invalid-policy', detail: error.message } };
    }
    const repeated = this.#repeated(id, texts);
    if (repeated) return repeated;
    const signed = await this.#attribute(signingMessage(bytes), texts, proposed);
    if (!signed.ok) return signed;
    return this.#decide(now, (state) =>
      decideSubmission(state, now, { id, proposal, proposed, signatures: signed.value }),
    );
  }

  async approveAt(now: number, id: string, text: string): Promise<WriteOutcome> {
    this.#expire(now);
    if (!this.#state.proposal(id)) return unknownProposal(id);
    const proposal = this.#state.proposalBody(id);
    const proposed = this.#state.proposedPolicy(id);
    const repeated = this.#repeated(id, [text]);
    if (repeated) return repeated;
    const signed = await this.#attribute(signingMessage(proposalBytes(proposal)), [text], proposed);
    if (!signed.ok) return signed;
    return this.#decide(now, (state) =>
      decideApproval(state, now, { id, proposal, proposed, signatures: signed.value }),
    );
  }

  /**
   * A closed proposal sent again with signatures it carries already (the same
   * bytes, whatever a Nix signature's name or an SSH signature's line breaks:
   * signatureIdentity) is the same request again, answered with what it became: even when
   * the policy no longer trusts a key that signed it (the rotation it merged
   * may have removed that very key).
   */
  #repeated(id: string, texts: readonly string[]): WriteOutcome | undefined {
    const row = this.#state.proposal(id);
    if (!row || row.status === 'open') return undefined;
    const carried = new Set(this.#state.signatures(id).map((s) => signatureIdentity(s.signature)));
    if (!texts.every((t) => carried.has(signatureIdentity(t)))) return undefined;
    return { ok: true, created: false, view: proposalView(this.#state, row, this.#review(id)) };
  }

  /**
   * Finds the key of every signature (WebCrypto, so before the transaction). A
   * signature by a key the registry no longer trusts says since which version.
   */
  async #attribute(
    message: Uint8Array,
    texts: readonly string[],
    proposed: Policy | undefined,
  ): Promise<{ ok: true; value: SignedRequest['signatures'] } | { ok: false; problem: WriteProblem }> {
    const candidates = candidateKeys(this.#state.policy.policy, proposed);
    const attributed: Attribution = await attributeSignatures(message, texts, candidates);
    if (attributed.ok) return { ok: true, value: attributed.signatures };
    const problem = signatureProblem(attributed.problem);
    if (attributed.problem.kind !== 'untrusted-key' && attributed.problem.kind !== 'bad-signature') {
      return { ok: false, problem };
    }
    const removed = await this.#removedKey(message, attributed.problem.signature, candidates);
    if (!removed) return { ok: false, problem };
    return {
      ok: false,
      problem: {
        kind: 'untrusted-key',
        detail: `signature ${signatureLabel(attributed.problem.signature)} ('${removed.key.name}') is by a key that version ${removed.since} removed from the policy: the policy in force (since version ${removed.since}) no longer trusts it`,
        extensions: { name: removed.key.name, removedBy: removed.since },
      },
    };
  }

  /** The key of an earlier policy that made `text`, and the version whose policy dropped it. */
  async #removedKey(
    message: Uint8Array,
    text: string,
    current: readonly TrustedKey[],
  ): Promise<{ key: TrustedKey; since: number } | undefined> {
    const policies = this.#state.policies;
    for (const [i, { policy }] of policies.entries()) {
      for (const key of policy.keys) {
        if (current.some((k) => k.id === key.id) || !(await signedBy(message, text, key))) continue;
        const dropped = policies.slice(i + 1).find((p) => !p.policy.keys.some((k) => k.id === key.id));
        if (dropped) return { key, since: dropped.since };
      }
    }
    return undefined;
  }

  /**
   * Runs a decision in one transaction, after expiry: writes it, then merges the
   * proposal when its thresholds are met. A merged policy change can bring other
   * open proposals to their thresholds: each merges (or closes) in the same
   * transaction. Then KV is sent what it lacks, and the alarm is set for the next
   * open proposal's expiry, so it leaves storage even if nobody calls.
   */
  async #decide(now: number, decide: (state: StoredState) => Decision): Promise<WriteOutcome> {
    const state = this.#state;
    const outcome = state.transaction(this.ctx.storage, () => {
      state.apply(decideExpiry(state, now));
      const decision = decide(state);
      state.apply(decision.writes);
      if (decision.outcome.ok) this.#settle(now, decision.outcome.id);
      return decision.outcome;
    });
    const made = state.made;
    const merged: MergedVersion | undefined = made && {
      head: this.#headPointer(),
      record: made.head.record,
      body: made.body,
    };
    if (merged) this.#publisher.soon();
    await this.#publisher.schedule(this.#sql.nextExpiry());
    // Proposals a policy change brought to their thresholds, left for the alarm: now.
    if (this.#sql.meta(META.settlePending) === 1) await this.ctx.storage.setAlarm(Date.now());
    if (!outcome.ok) return outcome;
    const row = state.proposal(outcome.id);
    if (!row) return unknownProposal(outcome.id);
    const view = proposalView(state, row, this.#review(outcome.id));
    return { ok: true, created: outcome.created, view, ...(merged ? { merged } : {}) };
  }

  /**
   * Merges `id` if it is ready. After a policy change, every open proposal may
   * now be ready (or in conflict): a first batch is settled here, the rest from
   * the alarm a batch per transaction, so no transaction holds the object long.
   */
  #settle(now: number, id: string): void {
    const writes = decideMerge(this.#state, now, id);
    this.#state.apply(writes);
    if (!writes.some((w) => w.op === 'add-version' && w.policy !== undefined)) return;
    this.#sql.setMeta(META.settlePending, 1);
    this.#settleBatch(now);
  }

  /** Settles up to SETTLE_BATCH open proposals; the caller holds the transaction. */
  #settleBatch(now: number): void {
    let settled = 0;
    for (const row of this.#state.openProposals()) {
      const writes = decideMerge(this.#state, now, row.id);
      if (writes.length === 0) continue;
      this.#state.apply(writes);
      // Another policy change: proposals already looked at may be ready now.
      if (writes.some((w) => w.op === 'add-version' && w.policy !== undefined)) return;
      if (++settled >= SETTLE_BATCH) return;
    }
    this.#sql.setMeta(META.settlePending, 0);
  }

  /** The alarm's share of a policy change's settling: a batch per transaction, other requests in between. */
  async #settleAll(now: number): Promise<void> {
    while (this.#sql.meta(META.settlePending) === 1) {
      this.#state.transaction(this.ctx.storage, () => this.#settleBatch(now));
      this.#publisher.soon();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  #expire(now: number): void {
    const writes = decideExpiry(this.#state, now);
    if (writes.length > 0) this.#state.transaction(this.ctx.storage, () => this.#state.apply(writes));
  }

  #review(id: string): ReviewView {
    return JSON.parse(this.#sql.review(id) ?? 'null') as ReviewView;
  }

  #headPointer(): Head {
    const head = this.#state.head;
    return headOf(head.record, this.#sql.record(head.version - 1)?.created ?? null);
  }
}
