import type { PolicyJson } from '../protocol/policy.js';
import { recordText, versionRecordSchema, type VersionRecord } from '../protocol/record.js';
import type { ProposalStatus } from './contract.js';
import { SCHEMA, TEXT_CHUNK, textKeys, type META } from './tables.js';

/** A proposal's row; its canonical body and its review are texts of their own (textKeys). */
export type ProposalRow = {
  readonly id: string;
  readonly base: number;
  readonly message: string;
  readonly expires_ms: number;
  readonly submitted: string;
  readonly status: ProposalStatus;
  readonly version: number | null;
  readonly outcome: string | null;
};

export type SignatureRow = {
  readonly key_id: string;
  readonly key: string;
  readonly signature: string;
  readonly added: string;
};

/**
 * Synchronous access to the writer's tables (tables.ts). Every method is one or
 * a few statements and never awaits, so callers compose them inside one
 * `transactionSync`.
 */
export class WriterSql {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#sql.exec(SCHEMA);
  }

  headVersion(): number {
    const row = this.#sql.exec<{ v: number | null }>('SELECT max(version) AS v FROM versions').one();
    return row.v ?? 0;
  }

  recordText(version: number): string | undefined {
    return this.text(textKeys.record(version));
  }

  record(version: number): VersionRecord | undefined {
    const text = this.recordText(version);
    return text === undefined ? undefined : versionRecordSchema.parse(JSON.parse(text));
  }

  file(version: number): string | undefined {
    return this.text(textKeys.file(version));
  }

  /** Stores a version; its record as canonical JSON, the exact text its hash covers. */
  addVersion(record: VersionRecord, body: string): void {
    this.#sql.exec('INSERT INTO versions (version, sha256) VALUES (?, ?)', record.version, record.sha256);
    this.putText(textKeys.record(record.version), recordText(record));
    this.putText(textKeys.file(record.version), body);
  }

  text(key: string): string | undefined {
    const rows = this.#sql.exec<{ text: string }>('SELECT text FROM texts WHERE key = ? ORDER BY chunk', key).toArray();
    return rows.length === 0 ? undefined : rows.map((r) => r.text).join('');
  }

  putText(key: string, text: string): void {
    this.deleteText(key);
    for (let chunk = 0; chunk * TEXT_CHUNK < text.length || chunk === 0; chunk++) {
      const part = text.slice(chunk * TEXT_CHUNK, (chunk + 1) * TEXT_CHUNK);
      this.#sql.exec('INSERT INTO texts (key, chunk, text) VALUES (?, ?, ?)', key, chunk, part);
    }
  }

  deleteText(key: string): void {
    this.#sql.exec('DELETE FROM texts WHERE key = ?', key);
  }

  policy(): { since: number; sha256: string; json: PolicyJson } | undefined {
    const rows = this.#sql
      .exec<{ since: number; sha256: string; json: string }>(
        'SELECT since, sha256, json FROM policies ORDER BY since DESC LIMIT 1',
      )
      .toArray();
    const row = rows[0];
    return row && { since: row.since, sha256: row.sha256, json: JSON.parse(row.json) as PolicyJson };
  }

  /** Every policy, oldest first. */
  policies(): { since: number; sha256: string; json: PolicyJson }[] {
    return this.#sql
      .exec<{ since: number; sha256: string; json: string }>('SELECT since, sha256, json FROM policies ORDER BY since')
      .toArray()
      .map((row) => ({ since: row.since, sha256: row.sha256, json: JSON.parse(row.json) as PolicyJson }));
  }

  addPolicy(since: number, sha256: string, json: PolicyJson): void {
    this.#sql.exec('INSERT INTO policies (since, sha256, json) VALUES (?, ?, ?)', since, sha256, JSON.stringify(json));
  }

  proposal(id: string): ProposalRow | undefined {
    return this.#sql.exec<ProposalRow>('SELECT * FROM proposals WHERE id = ?', id).toArray()[0];
  }

  proposals(status: ProposalStatus | undefined, limit: number): ProposalRow[] {
    const cursor =
      status === undefined
        ? this.#sql.exec<ProposalRow>('SELECT * FROM proposals ORDER BY submitted DESC, id LIMIT ?', limit)
        : this.#sql.exec<ProposalRow>(
            'SELECT * FROM proposals WHERE status = ? ORDER BY submitted DESC, id LIMIT ?',
            status,
            limit,
          );
    return cursor.toArray();
  }

  addProposal(row: ProposalRow, body: string, review: string): void {
    this.#sql.exec(
      'INSERT INTO proposals (id, base, message, expires_ms, submitted, status, version, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      row.id,
      row.base,
      row.message,
      row.expires_ms,
      row.submitted,
      row.status,
      row.version,
      row.outcome,
    );
    this.putText(textKeys.proposal(row.id), body);
    this.putText(textKeys.review(row.id), review);
  }

  proposalBody(id: string): string | undefined {
    return this.text(textKeys.proposal(id));
  }

  review(id: string): string | undefined {
    return this.text(textKeys.review(id));
  }

  closeProposal(id: string, status: ProposalStatus, version: number | null, outcome: string | null): void {
    this.#sql.exec(
      'UPDATE proposals SET status = ?, version = ?, outcome = ? WHERE id = ?',
      status,
      version,
      outcome,
      id,
    );
  }

  signatures(proposal: string): SignatureRow[] {
    return this.#sql
      .exec<SignatureRow>(
        'SELECT key_id, key, signature, added FROM signatures WHERE proposal = ? ORDER BY added, key_id',
        proposal,
      )
      .toArray();
  }

  addSignature(proposal: string, row: SignatureRow): void {
    this.#sql.exec(
      'INSERT OR IGNORE INTO signatures (proposal, key_id, key, signature, added) VALUES (?, ?, ?, ?, ?)',
      proposal,
      row.key_id,
      row.key,
      row.signature,
      row.added,
    );
  }

  /** Ids of open proposals past their expiry. */
  expiredProposals(now: number): string[] {
    return this.#sql
      .exec<{ id: string }>("SELECT id FROM proposals WHERE status = 'open' AND expires_ms <= ?", now)
      .toArray()
      .map((r) => r.id);
  }

  /** Proposals leave storage, signatures and all. */
  dropProposals(ids: readonly string[]): void {
    for (const id of ids) {
      this.#sql.exec('DELETE FROM signatures WHERE proposal = ?', id);
      this.#sql.exec('DELETE FROM proposals WHERE id = ?', id);
      this.deleteText(textKeys.proposal(id));
      this.deleteText(textKeys.review(id));
    }
  }

  nextExpiry(): number | undefined {
    const row = this.#sql
      .exec<{ t: number | null }>("SELECT min(expires_ms) AS t FROM proposals WHERE status = 'open'")
      .one();
    return row.t ?? undefined;
  }

  /** The log's leaves from `from` (a leaf index) on, in order: version `leaf + 1`'s record and file hashes. */
  leaves(from = 0): { leaf: number; record_sha256: string; file_sha256: string }[] {
    return this.#sql
      .exec<{ leaf: number; record_sha256: string; file_sha256: string }>(
        'SELECT leaf, record_sha256, file_sha256 FROM log_leaves WHERE leaf >= ? ORDER BY leaf',
        from,
      )
      .toArray();
  }

  logSize(): number {
    return this.#sql.exec<{ n: number }>('SELECT count(*) AS n FROM log_leaves').one().n;
  }

  addLeaf(leaf: number, recordSha256: string, fileSha256: string): void {
    this.#sql.exec(
      'INSERT INTO log_leaves (leaf, record_sha256, file_sha256) VALUES (?, ?, ?)',
      leaf,
      recordSha256,
      fileSha256,
    );
  }

  meta(key: (typeof META)[keyof typeof META]): number {
    const rows = this.#sql.exec<{ value: number }>('SELECT value FROM meta WHERE key = ?', key).toArray();
    return rows[0]?.value ?? 0;
  }

  setMeta(key: (typeof META)[keyof typeof META], value: number): void {
    this.#sql.exec(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      value,
    );
  }
}
