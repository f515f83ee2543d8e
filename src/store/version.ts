import type { VersionRecord } from './records.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One immutable registry version: its record and its file's exact bytes, as served.
 * Safe to keep in isolate memory forever. The file read as Nix reads it (its
 * RegistryIndex) is kept by the store apart, weighed on its own
 * (`RegistryStore.indexOf`), so a large file stays servable from memory even when
 * its index is too large to keep.
 */
export class StoredVersion {
  constructor(
    readonly record: VersionRecord,
    readonly bytes: Uint8Array,
  ) {}

  static fromText(record: VersionRecord, body: string): StoredVersion {
    return new StoredVersion(record, encoder.encode(body));
  }

  get registry(): string {
    return this.record.registry;
  }

  get number(): number {
    return this.record.version;
  }

  /** The file as text, decoded when asked (not kept: the bytes are). */
  get body(): string {
    return decoder.decode(this.bytes);
  }

  /** What this version holds in memory: its bytes, and a little for the record. */
  get estimatedBytes(): number {
    return this.bytes.byteLength + 1024;
  }
}
