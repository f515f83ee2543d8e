import { readRegistryAsNix, type Registry } from '../nix/registry.js';
import { Lru } from '../lru.js';
import { readPolicy, type Policy } from '../protocol/policy.js';
import { proposedPolicy, type Proposal } from '../protocol/proposal.js';
import { loadHead, type LoadedHead, type PolicyInForce, type Write, type WriterState } from './decide.js';
import type { WriterLog } from './log.js';
import type { ProposalRow, SignatureRow, WriterSql } from './sql.js';

/**
 * The writer's storage as decisions read it (WriterState), and the one place
 * their writes are applied. Parsed forms (the head, older bases, policies,
 * proposal bodies) are kept in memory; a head or policy a write makes is staged
 * and kept only once its transaction commits, so a rolled-back transaction
 * leaves memory as storage is.
 */
export class StoredState implements WriterState {
  readonly #sql: WriterSql;
  readonly #log: WriterLog;
  #head: LoadedHead | undefined;
  #staged: { head: LoadedHead; body: string } | undefined;
  /** The newest version the last committed transaction made, with its file. */
  #made: { head: LoadedHead; body: string } | undefined;
  readonly #older = new Lru<number, Registry>(4);
  readonly #policies = new Map<string, Policy>();
  readonly #bodies = new Lru<string, Proposal>(64);

  constructor(sql: WriterSql, log: WriterLog) {
    this.#sql = sql;
    this.#log = log;
  }

  /** Runs `work` in one storage transaction; in-memory state follows only what was committed. */
  transaction<T>(storage: DurableObjectStorage, work: () => T): T {
    this.#staged = undefined;
    this.#made = undefined;
    try {
      const result = storage.transactionSync(work);
      // Set by apply() inside `work`, which the compiler cannot see.
      const staged = this.#staged as { head: LoadedHead; body: string } | undefined;
      if (staged) this.#head = staged.head;
      this.#made = staged;
      return result;
    } finally {
      this.#staged = undefined;
    }
  }

  /** The newest version the last transaction made, if it made one. */
  get made(): { readonly head: LoadedHead; readonly body: string } | undefined {
    return this.#made;
  }

  apply(writes: readonly Write[]): void {
    for (const write of writes) {
      switch (write.op) {
        case 'add-proposal':
          this.#sql.addProposal(write.row, write.body, write.review);
          break;
        case 'add-signature':
          this.#sql.addSignature(write.proposal, write.row);
          break;
        case 'close':
          this.#sql.closeProposal(write.proposal, write.status, write.version, write.outcome);
          break;
        case 'add-version':
          this.#sql.addVersion(write.head.record, write.body);
          this.#log.append(write.head.record, write.head.recordHash);
          if (write.policy) this.#sql.addPolicy(write.head.version, write.policy.sha256, write.policy.json);
          this.#staged = { head: write.head, body: write.body };
          break;
        case 'drop-proposals':
          for (const id of write.ids) this.#bodies.delete(id);
          this.#sql.dropProposals(write.ids);
          break;
      }
    }
  }

  get seeded(): boolean {
    return this.#sql.headVersion() > 0;
  }

  get head(): LoadedHead {
    const version = this.#sql.headVersion();
    const known = this.#staged?.head ?? this.#head;
    if (known?.version === version) return known;
    const record = this.#sql.record(version);
    const body = this.#sql.file(version);
    if (record === undefined || body === undefined) throw new Error('the registry was never seeded');
    const head = loadHead(record, readRegistryAsNix(body).registry);
    this.#head = head;
    return head;
  }

  registryAt(version: number): Registry {
    const head = this.head;
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

  get policy(): PolicyInForce {
    const row = this.#sql.policy();
    if (!row) throw new Error('the registry has no policy: it was never seeded');
    return { policy: this.#read(row.sha256, row.json), since: row.since };
  }

  get policies(): readonly PolicyInForce[] {
    return this.#sql.policies().map((row) => ({ policy: this.#read(row.sha256, row.json), since: row.since }));
  }

  #read(sha256: string, json: unknown): Policy {
    let policy = this.#policies.get(sha256);
    if (!policy) {
      policy = readPolicy(json);
      this.#policies.set(sha256, policy);
    }
    return policy;
  }

  proposal(id: string): ProposalRow | undefined {
    return this.#sql.proposal(id);
  }

  proposalBody(id: string): Proposal {
    let body = this.#bodies.get(id);
    if (!body) {
      const text = this.#sql.proposalBody(id);
      if (text === undefined) throw new Error(`proposal ${id} has lost its body`);
      body = JSON.parse(text) as Proposal;
      this.#bodies.set(id, body);
    }
    return body;
  }

  proposedPolicy(id: string): Policy | undefined {
    const json = proposedPolicy(this.proposalBody(id));
    return json && readPolicy(json);
  }

  signatures(id: string): readonly SignatureRow[] {
    return this.#sql.signatures(id);
  }

  openProposals(): readonly ProposalRow[] {
    return this.#sql.proposals('open', Number.MAX_SAFE_INTEGER);
  }

  expiredProposals(now: number): readonly string[] {
    return this.#sql.expiredProposals(now);
  }
}
