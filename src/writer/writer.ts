import { DurableObject } from 'cloudflare:workers';
import { formatPublicKey, formatSignature, parseSignature } from '../crypto/keys.js';
import { sha256HexSync } from '../crypto/sha256.js';
import { lintRegistry } from '../nix/lint.js';
import { readRegistryAsNix, type Registry } from '../nix/registry.js';
import { Lru } from '../lru.js';
import { PolicyError, readPolicy, type Policy } from '../protocol/policy.js';
import { MAX_CLOCK_SKEW_MS, proposedPolicy, type Proposal } from '../protocol/proposal.js';
import { recordText, type VersionRecord } from '../protocol/record.js';
import { nextVersion, review, type Review, type ReviewHead } from '../protocol/review.js';
import { attributeSignatures, candidateKeys, met, tally, type Attributed } from '../protocol/signatures.js';
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
} from './contract.js';
import { headOf, reviewProblem, reviewView, signatureProblem, unknownProposal } from './outcomes.js';
import { Publisher } from './publish.js';
import { WriterSql, type ProposalRow } from './sql.js';

interface WriterEnv {
  readonly REGISTRY_KV: KVNamespace;
}

/** The head as the writer keeps it in memory: parsed, linted once, hashed once. */
interface LoadedHead extends ReviewHead {
  readonly record: VersionRecord;
  readonly recordHash: string;
}

interface Decision {
  readonly outcome: WriteOutcome;
  /** Set when the decision merged: the new head, to keep in memory once committed. */
  readonly head?: LoadedHead;
}

const problem = (p: WriteProblem): Decision => ({ outcome: { ok: false, problem: p } });

/**
 * The single writer of one registry (one object per registry name). Every
 * decision (signatures counted, base check, lint, version number) is taken and
 * committed in one synchronous transaction of its own SQLite storage; only
 * signature checking (WebCrypto) awaits, before it. KV is a replica, written
 * afterwards by the Publisher and retried from the alarm until it has everything.
 */
export class RegistryWriter extends DurableObject<WriterEnv> {
  readonly #sql: WriterSql;
  readonly #publisher: Publisher;
  #head: LoadedHead | undefined;
  readonly #older = new Lru<number, Registry>(4);
  #policy: Policy | undefined;

  constructor(ctx: DurableObjectState, env: WriterEnv) {
    super(ctx, env);
    this.#sql = new WriterSql(ctx.storage.sql);
    this.#publisher = new Publisher(ctx, this.#sql, () => this.env.REGISTRY_KV);
  }

  /**
   * The registry's head, creating version 1 from `seed` when the registry has
   * never been written, published to KV before it returns (readers read KV next).
   */
  async seed(seed: SeedVersion): Promise<Head> {
    if (this.#sql.headVersion() === 0) {
      this.ctx.storage.transactionSync(() => {
        if (this.#sql.headVersion() !== 0) return;
        this.#sql.addVersion(seed.record, seed.body);
        const policy = seed.record.source.kind === 'embedded' ? seed.record.source.policy : undefined;
        if (!policy) throw new Error('version 1 must carry its genesis policy');
        this.#sql.addPolicy(1, seed.record.policy, policy);
      });
      // Readers read version 1 from KV next: a failure here is theirs to report (503).
      if ((await this.#publisher.publish()) === 'failed') throw new Error('KV did not take version 1');
    } else {
      await this.#publisher.repair();
    }
    return headOf(this.#loadHead().record);
  }

  /** The newest version, as the writer knows it (KV may not show it yet). */
  head(): Head | undefined {
    return this.#sql.headVersion() === 0 ? undefined : headOf(this.#loadHead().record);
  }

  submit(proposal: Proposal, signatures: readonly string[]): Promise<WriteOutcome> {
    return this.submitAt(Date.now(), proposal, signatures);
  }

  approve(id: string, signature: string): Promise<WriteOutcome> {
    return this.approveAt(Date.now(), id, signature);
  }

  proposal(id: string): ProposalView | undefined {
    this.#dropExpired(Date.now());
    const row = this.#sql.proposal(id);
    return row && this.#view(row);
  }

  /** Proposals newest first, as summaries: a proposal's whole view can be large. */
  proposals(status: ProposalStatus | undefined, limit: number): ProposalSummary[] {
    this.#dropExpired(Date.now());
    return this.#sql.proposals(status, limit).map((row) => this.#summary(row));
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
    this.#dropExpired(now);
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
    const attributed = await attributeSignatures(
      signingMessage(bytes),
      texts,
      candidateKeys(this.#inForce(), proposed),
    );
    if (!attributed.ok) return { ok: false, problem: signatureProblem(attributed.problem) };
    return this.#commit(() => this.#decideSubmission(now, id, proposal, attributed.signatures, proposed));
  }

  async approveAt(now: number, id: string, text: string): Promise<WriteOutcome> {
    this.#dropExpired(now);
    const row = this.#sql.proposal(id);
    if (!row) return unknownProposal(id);
    const proposal = this.#proposalOf(row.id);
    const proposed = this.#proposedPolicy(proposal);
    const message = signingMessage(proposalBytes(proposal));
    const attributed = await attributeSignatures(message, [text], candidateKeys(this.#inForce(), proposed));
    if (!attributed.ok) return { ok: false, problem: signatureProblem(attributed.problem) };
    return this.#commit(() => {
      this.#sql.dropExpired(now);
      const current = this.#sql.proposal(id);
      if (!current) return problem({ kind: 'expired', detail: `proposal ${id} expired and was removed` });
      if (current.status !== 'open') {
        return problem({
          kind: 'not-open',
          detail: `proposal ${id} is ${current.status === 'conflict' ? 'in conflict' : current.status}; it takes no more approvals`,
          extensions: { proposalStatus: current.status },
        });
      }
      this.#addSignatures(id, attributed.signatures, proposed, now);
      return this.#mergeIfReady(current, proposal, proposed, now, false);
    });
  }

  /** Runs `decide` in one transaction; in-memory state follows only what was committed. */
  /**
   * Runs `decide` in one transaction; in-memory state follows only what was
   * committed. Then KV is sent what it lacks, and the alarm is set for the
   * next open proposal's expiry, so it leaves storage even if nobody calls.
   */
  async #commit(decide: () => Decision): Promise<WriteOutcome> {
    const decision = this.ctx.storage.transactionSync(decide);
    if (decision.head) {
      this.#head = decision.head;
      this.#policy = undefined;
      this.#publisher.soon();
    }
    await this.#publisher.schedule(this.#sql.nextExpiry());
    return decision.outcome;
  }

  #decideSubmission(
    now: number,
    id: string,
    proposal: Proposal,
    signatures: readonly Attributed[],
    proposed: Policy | undefined,
  ): Decision {
    this.#sql.dropExpired(now);
    const existing = this.#sql.proposal(id);
    if (existing) {
      // The same bytes again create nothing; signatures not yet counted count as approvals.
      if (existing.status !== 'open') return { outcome: { ok: true, created: false, view: this.#view(existing) } };
      this.#addSignatures(id, signatures, proposed, now);
      return this.#mergeIfReady(existing, proposal, proposed, now, false);
    }
    const head = this.#loadHead();
    if (proposal.base > head.version) {
      return problem({
        kind: 'unknown-base',
        detail: `base ${proposal.base} is not a version of registry '${head.record.registry}' (the latest is ${head.version})`,
      });
    }
    if (Date.parse(proposal.expires) <= now) {
      return problem({ kind: 'expired', detail: `the proposal expired at ${proposal.expires}` });
    }
    if (Date.parse(proposal.created) > now + MAX_CLOCK_SKEW_MS) {
      return problem({ kind: 'not-yet-valid', detail: `the proposal is dated ${proposal.created}, in the future` });
    }
    const inForce = this.#inForce();
    if (
      tally(
        inForce,
        signatures.map((s) => s.key.id),
      ).have === 0
    ) {
      return problem({
        kind: 'untrusted-key',
        detail: `no signature is by a key the policy in force trusts (${inForce.keys.map((k) => k.name).join(', ')})`,
      });
    }
    const reviewed = this.#review(proposal, proposed, head);
    if (!reviewed.ok) return problem(reviewProblem(reviewed, head.version));
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
    this.#sql.addProposal(
      row,
      JSON.stringify(proposal),
      JSON.stringify(reviewView(proposal.base, head.version, reviewed)),
    );
    this.#addSignatures(id, signatures, proposed, now);
    return this.#mergeIfReady(row, proposal, proposed, now, true, reviewed);
  }

  /** Counts only keys the policy in force or the proposed one lists; one row per key. */
  #addSignatures(id: string, signatures: readonly Attributed[], proposed: Policy | undefined, now: number): void {
    const trusted = [...this.#inForce().keys, ...(proposed?.keys ?? [])];
    for (const { text, key } of signatures) {
      const listed = trusted.find((k) => k.id === key.id);
      if (!listed) continue;
      this.#sql.addSignature(id, {
        key_id: key.id,
        key: formatPublicKey(listed),
        // Recorded under the name the policy gives the key, whatever name it was sent with.
        signature: formatSignature({ name: listed.name, bytes: parseSignature(text).bytes }),
        added: new Date(now).toISOString(),
      });
    }
  }

  #mergeIfReady(
    row: ProposalRow,
    proposal: Proposal,
    proposed: Policy | undefined,
    now: number,
    created: boolean,
    reviewed?: Review,
  ): Decision {
    const inForce = this.#inForce();
    const signatures = this.#sql.signatures(row.id);
    const keys = signatures.map((s) => s.key_id);
    const ready = met(tally(inForce, keys)) && (!proposed || met(tally(proposed, keys)));
    const open = (): Decision => ({
      outcome: { ok: true, created, view: this.#view(this.#sql.proposal(row.id) ?? row) },
    });
    const head = this.#loadHead();
    // A policy change overtaken by another can never merge: say so now, not at the threshold.
    const overtaken = proposed ? this.#policyConflict(proposal) : undefined;
    if (!ready && !overtaken) return open();
    // Reviewed at submission against this same head: no need to do it twice.
    const result = overtaken ?? reviewed ?? this.#review(proposal, proposed, head);
    if (!result.ok) {
      const p = reviewProblem(result, head.version);
      const status = result.reason === 'conflict' ? 'conflict' : 'failed';
      this.#sql.closeProposal(
        row.id,
        status,
        null,
        JSON.stringify({ reason: p.kind, detail: p.detail, ...p.extensions }),
      );
      return { outcome: { ok: true, created, view: this.#view(this.#sql.proposal(row.id) ?? row) } };
    }
    // Version times strictly increase, a second at least, so Last-Modified tells every version apart.
    const time = new Date(Math.max(now, Date.parse(head.record.created) + 1000)).toISOString();
    if (Date.parse(time) >= Date.parse(proposal.expires)) return open();
    const trusted = new Set(candidateKeys(inForce, proposed).map((k) => k.id));
    const next = nextVersion({
      parent: head.record,
      parentHash: head.recordHash,
      policySha256: inForce.sha256,
      id: row.id,
      proposal,
      // Only what counts now: a key an earlier policy change removed would make the record unverifiable.
      signatures: signatures.filter((s) => trusted.has(s.key_id)).map((s) => s.signature),
      registry: result.registry,
      summary: result.summary,
      created: time,
    });
    this.#sql.addVersion(next.record, next.body);
    if (proposed) this.#sql.addPolicy(next.record.version, proposed.sha256, proposed.json);
    this.#sql.closeProposal(row.id, 'merged', next.record.version, null);
    const newHead: LoadedHead = {
      version: next.record.version,
      registry: result.registry,
      findings: result.resultFindings,
      record: next.record,
      recordHash: sha256HexSync(recordText(next.record)),
    };
    const merged: MergedVersion = { head: headOf(next.record), record: next.record, body: next.body };
    const view = this.#view(this.#sql.proposal(row.id) ?? row);
    return { outcome: { ok: true, created, view, merged }, head: newHead };
  }

  /**
   * The review, and two rules about policies: a policy change made on a base
   * older than the policy in force conflicts with it (it was signed without
   * knowing it), and one that sets the policy in force changes nothing.
   */
  #review(proposal: Proposal, proposed: Policy | undefined, head: LoadedHead): Review {
    const overtaken = proposed ? this.#policyConflict(proposal) : undefined;
    if (overtaken) return overtaken;
    const reviewed = review(this.#registryAt(proposal.base), head, proposal);
    if (proposed && reviewed.ok && proposed.sha256 === this.#inForce().sha256) {
      const { added, removed, changed, moved } = reviewed.summary;
      if (added.length + removed.length + changed.length + moved.length === 0)
        return { ok: false, reason: 'no-change' };
    }
    return reviewed;
  }

  #policyConflict(proposal: Proposal): Review | undefined {
    const since = this.#sql.policy()?.since ?? 1;
    if (since <= proposal.base) return undefined;
    return { ok: false, reason: 'conflict', entries: [`the policy (changed by version ${since})`] };
  }

  #proposalOf(id: string): Proposal {
    const body = this.#sql.proposalBody(id);
    if (body === undefined) throw new Error(`proposal ${id} has lost its body`);
    return JSON.parse(body) as Proposal;
  }

  #summary(row: ProposalRow): ProposalSummary {
    return {
      id: row.id,
      status: row.status,
      base: row.base,
      message: row.message,
      submitted: row.submitted,
      expires: new Date(row.expires_ms).toISOString(),
      signatures: this.#sql.signatures(row.id).length,
      ...(row.version === null ? {} : { version: row.version }),
    };
  }

  #view(row: ProposalRow): ProposalView {
    const proposal = this.#proposalOf(row.id);
    const signatures = this.#sql.signatures(row.id);
    const keys = signatures.map((s) => s.key_id);
    const inForce = this.#inForce();
    const proposed = this.#proposedPolicy(proposal);
    const policy = tally(inForce, keys);
    const newPolicy = proposed && tally(proposed, keys);
    // At least this many more keys must sign; one key in both policies counts for both.
    const missing =
      row.status === 'merged'
        ? 0
        : Math.max(policy.need - policy.have, newPolicy ? newPolicy.need - newPolicy.have : 0, 0);
    return {
      id: row.id,
      registry: proposal.registry,
      status: row.status,
      proposal,
      submitted: row.submitted,
      signatures: signatures.map((s) => ({ key: s.key, signature: s.signature, added: s.added })),
      approvals: { policy, ...(newPolicy ? { newPolicy } : {}), missing },
      review: JSON.parse(this.#sql.review(row.id) ?? 'null') as ReviewView,
      ...(row.version === null ? {} : { version: row.version }),
      ...(row.outcome === null ? {} : { outcome: JSON.parse(row.outcome) as ProposalView['outcome'] & object }),
    };
  }

  #dropExpired(now: number): void {
    this.#sql.dropExpired(now);
  }

  #inForce(): Policy {
    const row = this.#sql.policy();
    if (!row) throw new Error('the registry has no policy: it was never seeded');
    if (this.#policy?.sha256 !== row.sha256) this.#policy = readPolicy(row.json);
    return this.#policy;
  }

  #proposedPolicy(proposal: Proposal): Policy | undefined {
    const json = proposedPolicy(proposal);
    return json && readPolicy(json);
  }

  #loadHead(): LoadedHead {
    const version = this.#sql.headVersion();
    if (this.#head?.version === version) return this.#head;
    const text = this.#sql.recordText(version);
    const record = this.#sql.record(version);
    const body = this.#sql.file(version);
    if (text === undefined || record === undefined || body === undefined) {
      throw new Error('the registry was never seeded');
    }
    const registry = readRegistryAsNix(body).registry;
    this.#head = {
      version,
      registry,
      findings: lintRegistry(registry),
      record,
      recordHash: sha256HexSync(text),
    };
    return this.#head;
  }

  #registryAt(version: number): Registry {
    const head = this.#loadHead();
    if (version === head.version) return head.registry;
    let registry = this.#older.get(version);
    if (!registry) {
      const body = this.#sql.file(version);
      if (body === undefined) throw new Error(`version ${version} is missing from the writer's storage`);
      registry = readRegistryAsNix(body).registry;
      this.#older.set(version, registry);
    }
    return registry;
  }
}
