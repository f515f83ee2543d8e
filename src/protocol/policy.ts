import type * as z from '../nix/zod.js';
import { KeyError } from '../crypto/keys.js';
import { sha256HexSync } from '../crypto/sha256.js';
import { formatTrustedKey, isSshKey, parseTrustedKey, type TrustedKey } from '../crypto/trusted-key.js';
import { canonicalJson } from './canonical.js';
import { policySchema } from './changes.js';
import { firstIssue } from './issues.js';

/**
 * A registry's trust policy: the maintainers' public keys and how many distinct
 * ones must sign a change. Its wire form is
 * `{"keys": ["name:base64", "name:ssh-ed25519 AAAA… comment", ...], "threshold": K}`,
 * as in `registries/NAME.policy.json` and in a policy change: each key in Nix's
 * format or as an OpenSSH key line (src/crypto/trusted-key.ts).
 */
export type PolicyJson = z.infer<typeof policySchema>;

export interface Policy {
  readonly json: PolicyJson;
  readonly keys: readonly TrustedKey[];
  readonly threshold: number;
  /** Lowercase hex SHA-256 of the policy's canonical JSON (RFC 8785): what version records name. */
  readonly sha256: string;
}

export const MAX_POLICY_KEYS = 64;

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

/**
 * Reads a policy, refusing anything a threshold could be fooled by: a key listed
 * twice (as bytes, whatever its names and forms: an SSH Ed25519 key and the
 * same 32 bytes in Nix's format are one key), two keys under one name (a
 * signature names its key), small-order or non-canonical keys, key types other
 * than Ed25519, and thresholds that no set of listed keys can meet.
 */
export function readPolicy(value: unknown): Policy {
  const parsed = policySchema.safeParse(value);
  if (!parsed.success) {
    throw new PolicyError(`policy: ${firstIssue(parsed.error.issues)}`);
  }
  const json = parsed.data;
  if (json.keys.length === 0) throw new PolicyError('policy: lists no keys');
  if (json.keys.length > MAX_POLICY_KEYS) throw new PolicyError(`policy: lists more than ${MAX_POLICY_KEYS} keys`);
  const keys: TrustedKey[] = [];
  const names = new Set<string>();
  const ids = new Map<string, TrustedKey>();
  for (const text of json.keys) {
    let key: TrustedKey;
    try {
      key = parseTrustedKey(text);
    } catch (error) {
      if (error instanceof KeyError) throw new PolicyError(`policy: ${error.message}`);
      throw error;
    }
    const twin = ids.get(key.id);
    if (twin !== undefined) {
      const forms =
        isSshKey(twin) === isSshKey(key) ? '' : " (one in Nix's format, one as an SSH key: the same 32 bytes)";
      throw new PolicyError(
        `policy: '${key.name}' and '${twin.name}' are the same key${forms}; a key counts once, list it once`,
      );
    }
    if (names.has(key.name)) throw new PolicyError(`policy: two keys are named '${key.name}'`);
    ids.set(key.id, key);
    names.add(key.name);
    keys.push(key);
  }
  if (json.threshold > keys.length) {
    throw new PolicyError(`policy: threshold ${json.threshold} is more than its ${keys.length} keys`);
  }
  return { json, keys, threshold: json.threshold, sha256: policyHash(json) };
}

export function policyHash(json: PolicyJson): string {
  return sha256HexSync(new TextEncoder().encode(canonicalJson(json)));
}

/** What a policy change does, as a reviewer needs to see it: keys by their bytes, named as listed. */
export interface PolicyDiff {
  readonly threshold: { readonly from: number; readonly to: number };
  /** Keys the new policy trusts and the old did not (`name:base64`, or `name:TYPE BASE64` for an SSH key). */
  readonly added: string[];
  /** Keys the old policy trusted and the new one drops: their signatures stop counting. */
  readonly removed: string[];
  /** Keys both trust, listed under another name by the new policy. */
  readonly renamed: { from: string; to: string }[];
}

export function policyDiff(from: Policy, to: Policy): PolicyDiff {
  const text = formatTrustedKey;
  const before = new Map(from.keys.map((k) => [k.id, k]));
  const after = new Map(to.keys.map((k) => [k.id, k]));
  return {
    threshold: { from: from.threshold, to: to.threshold },
    added: to.keys.filter((k) => !before.has(k.id)).map(text),
    removed: from.keys.filter((k) => !after.has(k.id)).map(text),
    renamed: to.keys.flatMap((k) => {
      const old = before.get(k.id);
      return old && old.name !== k.name ? [{ from: old.name, to: k.name }] : [];
    }),
  };
}
