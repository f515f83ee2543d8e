import { sha256Hex } from '../crypto/sha256.js';
import { inputToURL } from '../nix/input.js';
import { readRegistry, writeRegistry } from '../nix/registry.js';
import type { Head, VersionRecord } from './records.js';

/** A registry the service starts with: `registries/NAME.json` and the time its version 1 carries. */
export interface EmbeddedRegistry {
  readonly name: string;
  readonly file: unknown;
  readonly created: string;
}

/** Everything the writer stores for a registry's version 1. */
export interface SeedVersion {
  readonly head: Head;
  readonly body: string;
  readonly record: VersionRecord;
}

/**
 * Turns an embedded registry into its version 1. Deterministic: the same file
 * always gives the same bytes, hash and record, so seeding twice is harmless.
 * Throws NixError('invalid-registry') for a file the service would refuse to publish.
 */
export async function prepareSeed(embedded: EmbeddedRegistry): Promise<SeedVersion> {
  const registry = readRegistry(JSON.stringify(embedded.file));
  const body = writeRegistry(registry);
  const sha256 = await sha256Hex(body);
  const created = new Date(embedded.created).toISOString();
  const record: VersionRecord = {
    registry: embedded.name,
    version: 1,
    sha256,
    parent: null,
    created,
    entries: registry.entries.length,
    source: { kind: 'embedded' },
    changes: { added: registry.entries.map((e) => inputToURL(e.from)), removed: [], changed: [], moved: [] },
  };
  return { head: { version: 1, sha256, created }, body, record };
}
