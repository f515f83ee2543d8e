import { RegistryIndex } from '../nix/lookup.js';
import { readRegistry } from '../nix/registry.js';
import type { VersionRecord } from './records.js';

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

  /** The body as UTF-8, encoded once: served as is and measured for Content-Length. */
  get bytes(): Uint8Array {
    this.#bytes ??= new TextEncoder().encode(this.body);
    return this.#bytes;
  }

  get index(): RegistryIndex {
    this.#index ??= new RegistryIndex(readRegistry(this.body));
    return this.#index;
  }
}
