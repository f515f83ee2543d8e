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
} as const;

export { REGISTRY_NAME } from '../protocol/names.js';
