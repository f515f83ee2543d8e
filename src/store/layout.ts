/**
 * The Workers KV key layout, in one place (documented in docs/storage.md).
 *
 * Version bodies and records are immutable once written; the head is the only
 * key that changes, and the registry's Durable Object writes it after the
 * version it points at.
 */
const VERSION_DIGITS = 10;

function pad(version: number): string {
  return String(version).padStart(VERSION_DIGITS, '0');
}

export const kvKeys = {
  head: (registry: string) => `registry/${registry}/head`,
  versionFile: (registry: string, version: number) => `registry/${registry}/version/${pad(version)}/file`,
  versionRecord: (registry: string, version: number) => `registry/${registry}/version/${pad(version)}/record`,
  /** The manifest of a version's lookup form (src/store/lookup-form.ts): immutable. */
  lookupManifest: (registry: string, version: number) => `registry/${registry}/version/${pad(version)}/lookup`,
  /** One shard of a version's lookup form: immutable. */
  lookupShard: (registry: string, version: number, shard: number) =>
    `registry/${registry}/version/${pad(version)}/lookup/shard/${shard}`,
  /** One block of a version's lookup form (its entries in file order): immutable. */
  lookupBlock: (registry: string, version: number, block: number) =>
    `registry/${registry}/version/${pad(version)}/lookup/block/${block}`,
  /** A log tile or entry bundle, by its tlog-tiles path (`tile/0/000.p/3`): immutable. */
  logTile: (registry: string, path: string) => `registry/${registry}/log/${path}`,
  /** The signed checkpoint note: changes with every version and every cosignature. */
  logCheckpoint: (registry: string) => `registry/${registry}/log/checkpoint`,
} as const;

export { REGISTRY_NAME } from '../protocol/names.js';
