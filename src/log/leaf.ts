import { REGISTRY_NAME, SHA256_HEX } from '../protocol/names.js';
import { LogError } from './errors.js';

/**
 * The entry the service appends to a registry's log for each version (version N is leaf
 * N - 1; version 1 is leaf 0). It commits to which registry, which version, and the exact
 * bytes served for it, in ASCII text, every line ending in a newline:
 *
 *   flake-registry/leaf/v1
 *   registry NAME
 *   version N
 *   record HEX
 *   file HEX
 *
 * NAME matches REGISTRY_NAME (no spaces or newlines), N is decimal from 1 without leading
 * zeros, `record` is the lowercase hex SHA-256 of the version's record (the canonical JSON
 * bytes served at /registries/NAME/versions/N) and `file` that of its registry file. Every
 * field has one spelling and a fixed place, so one leaf has exactly one byte form and no two
 * leaves share one. The first line separates the domain: no other thing this service hashes
 * or signs begins with it (a proposal message begins `flake-registry/proposal/v1`).
 */

export const LEAF_DOMAIN = 'flake-registry/leaf/v1';

export interface Leaf {
  readonly registry: string;
  readonly version: number;
  /** Lowercase hex SHA-256 of the version record's bytes. */
  readonly record: string;
  /** Lowercase hex SHA-256 of the registry file's bytes. */
  readonly file: string;
}

const VERSION = /^[1-9][0-9]{0,15}$/;

/** The longest leaf: a registry name of 63 characters and a version of 16 digits. */
export const MAX_LEAF_BYTES =
  `${LEAF_DOMAIN}\nregistry ${'a'.repeat(63)}\nversion ${'9'.repeat(16)}\nrecord ${'0'.repeat(64)}\nfile ${'0'.repeat(64)}\n`
    .length;
const FIELDS = ['registry', 'version', 'record', 'file'] as const;

/** Why `leaf` cannot be written as a leaf, or undefined when it can. */
function problem(leaf: Leaf): string | undefined {
  if (!REGISTRY_NAME.test(leaf.registry))
    return `registry name ${JSON.stringify(leaf.registry)} is not a registry name`;
  if (!Number.isSafeInteger(leaf.version) || leaf.version < 1) return `version ${leaf.version} is not a version number`;
  if (!SHA256_HEX.test(leaf.record)) return `record hash ${JSON.stringify(leaf.record)} is not 64 lowercase hex digits`;
  if (!SHA256_HEX.test(leaf.file)) return `file hash ${JSON.stringify(leaf.file)} is not 64 lowercase hex digits`;
  return undefined;
}

/** The leaf's bytes, as above; throws malformed-leaf for a field that has no place in them. */
export function leafData(leaf: Leaf): Uint8Array {
  const why = problem(leaf);
  if (why !== undefined) throw new LogError('malformed-leaf', `cannot make a leaf: ${why}`);
  const text = `${LEAF_DOMAIN}\nregistry ${leaf.registry}\nversion ${leaf.version}\nrecord ${leaf.record}\nfile ${leaf.file}\n`;
  return new TextEncoder().encode(text);
}

/** Reads leaf bytes back, refusing anything that leafData would not have written byte for byte. */
export function parseLeafData(bytes: Uint8Array): Leaf {
  const refuse = (why: string): never => {
    throw new LogError('malformed-leaf', `not a ${LEAF_DOMAIN} leaf: ${why}`);
  };
  if (bytes.some((b) => b > 0x7e || (b < 0x20 && b !== 0x0a)))
    refuse('it holds bytes other than printable ASCII and newlines');
  const text = new TextDecoder().decode(bytes);
  if (!text.endsWith('\n')) refuse('it does not end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== LEAF_DOMAIN) refuse(`its first line is not ${LEAF_DOMAIN}`);
  if (lines.length !== FIELDS.length + 1) refuse(`it has ${lines.length} lines, expected ${FIELDS.length + 1}`);
  const values = FIELDS.map((field, i) => {
    const line = lines[i + 1] as string;
    if (!line.startsWith(`${field} `)) refuse(`line ${i + 2} is not '${field} …'`);
    return line.slice(field.length + 1);
  });
  const [registry = '', version = '', record = '', file = ''] = values;
  if (!VERSION.test(version)) refuse(`version ${JSON.stringify(version)} is not decimal digits without leading zeros`);
  const leaf: Leaf = { registry, version: Number(version), record, file };
  const why = problem(leaf);
  if (why !== undefined) refuse(why);
  return leaf;
}

/** The index of version N's leaf: versions count from 1, leaves from 0. */
export const leafIndex = (version: number): number => version - 1;
