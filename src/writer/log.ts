import { leafData, leafIndex } from '../log/leaf.js';
import { leafHash, MerkleTree } from '../log/merkle.js';
import { recordHash, type VersionRecord } from '../protocol/record.js';
import type { WriterSql } from './sql.js';

/**
 * The registry's transparency log as its writer keeps it (docs/log.md): one
 * leaf per version, appended in the merge's own transaction (the leaf rows are
 * storage like the versions), and the Merkle tree over them in memory, rebuilt
 * from the rows whenever it and storage disagree (a fresh object, or a
 * transaction that rolled back after an append).
 */
export class WriterLog {
  readonly #sql: WriterSql;
  #tree = new MerkleTree();

  constructor(sql: WriterSql) {
    this.#sql = sql;
  }

  /** Records version `record`'s leaf; the caller holds the transaction. */
  append(record: VersionRecord, hash = recordHash(record)): void {
    this.#sql.addLeaf(leafIndex(record.version), hash, record.sha256);
  }

  /**
   * The tree of every version the writer holds. Versions made before the log
   * existed get their leaves here, once, from their stored records.
   */
  tree(registry: string): MerkleTree {
    const head = this.#sql.headVersion();
    if (this.#sql.logSize() < head) {
      const present = new Set(this.#sql.leaves().map((row) => row.leaf));
      for (let version = 1; version <= head; version++) {
        if (present.has(leafIndex(version))) continue;
        const record = this.#sql.record(version);
        if (!record) throw new Error(`version ${version} is missing from the writer's storage`);
        this.append(record);
      }
      // The tree may hold leaves appended after a gap: it is made again in order.
      this.#tree = new MerkleTree();
    }
    if (this.#tree.size > head) this.#tree = new MerkleTree();
    for (const row of this.#sql.leaves(this.#tree.size)) {
      this.#tree.append(
        leafHash(leafData({ registry, version: row.leaf + 1, record: row.record_sha256, file: row.file_sha256 })),
      );
    }
    return this.#tree;
  }

  /** The leaf bytes of leaves [from, to), for entry bundles. */
  leaves(registry: string, from: number, to: number): Uint8Array[] {
    return this.#sql
      .leaves(from)
      .filter((row) => row.leaf < to)
      .map((row) => leafData({ registry, version: row.leaf + 1, record: row.record_sha256, file: row.file_sha256 }));
  }
}
