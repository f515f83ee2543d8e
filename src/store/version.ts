import { RegistryIndex } from '../nix/lookup.js';
import { readRegistryAsNix } from '../nix/registry.js';
import type { VersionRecord } from './records.js';

const BYTES_PER_CHARACTER = 4;

/**
 * One immutable registry version: its exact bytes, its record and, built on
 * first use, the lookup index. Safe to keep in isolate memory forever.
 */
export class StoredVersion {
  #index: RegistryIndex | undefined;
  #bytes: Uint8Array | undefined;

  constructor(
    readonly record: VersionRecord,
    readonly body: string,
  ) {}

  get registry(): string {
    return this.record.registry;
  }

  get number(): number {
    return this.record.version;
  }

  /**
   * What this version may come to hold in memory once served and looked up: its
   * text, its UTF-8 bytes and its parsed index. Measured by \`npm run bench\`
   * (docs/performance.md) to stay above what the heap really grows by.
   */
  get estimatedBytes(): number {
    return this.body.length * BYTES_PER_CHARACTER + 1024;
  }

  /** The body as UTF-8, encoded once: served as is and measured for Content-Length. */
  get bytes(): Uint8Array {
    this.#bytes ??= new TextEncoder().encode(this.body);
    return this.#bytes;
  }

  /**
   * Read as Nix reads it, not with the checks a file passes before it is published:
   * those ran when this version was written, and a later, stricter release of them
   * must not turn a published version unreadable.
   */
  get index(): RegistryIndex {
    this.#index ??= new RegistryIndex(readRegistryAsNix(this.body).registry);
    return this.#index;
  }
}
