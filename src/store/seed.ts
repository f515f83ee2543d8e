import { readRegistry } from '../nix/registry.js';
import { parseTrustedKey } from '../crypto/trusted-key.js';
import { PolicyError, readPolicy, type PolicyJson } from '../protocol/policy.js';
import { nameProblem, showInvisible } from '../protocol/text.js';
import type { VersionRecord } from '../protocol/record.js';
import { genesisVersion } from '../protocol/versions.js';

/**
 * A registry the service starts with: `registries/NAME.json`, its trust policy
 * (`registries/NAME.policy.json`) and the time its version 1 carries.
 */
export interface EmbeddedRegistry {
  readonly name: string;
  readonly file: unknown;
  readonly policy: unknown;
  readonly created: string;
}

/** Everything the writer stores for a registry's version 1. */
export interface SeedVersion {
  readonly body: string;
  readonly record: VersionRecord;
}

/**
 * Turns an embedded registry into its version 1. Deterministic: the same file
 * and policy always give the same bytes, hashes and record, so seeding twice is
 * harmless. `extraKeys` (local development only) join the policy's keys.
 * Throws NixError('invalid-registry') or PolicyError for what can never be published.
 */
export function prepareSeed(embedded: EmbeddedRegistry, extraKeys: readonly string[] = []): SeedVersion {
  const registry = readRegistry(JSON.stringify(embedded.file), `registries/${embedded.name}.json`);
  const policy = readPolicy(withKeys(embedded.policy, extraKeys));
  for (const key of policy.keys) {
    const problem = nameProblem(key.name);
    if (problem) throw new PolicyError(`policy: key name '${showInvisible(key.name)}' ${problem}`);
  }
  const { body, record } = genesisVersion(embedded.name, registry, policy, new Date(embedded.created).toISOString());
  return { body, record };
}

/** The policy with `extraKeys` added; a key it lists already (as bytes) is not listed twice. */
function withKeys(policy: unknown, extraKeys: readonly string[]): unknown {
  if (extraKeys.length === 0 || typeof policy !== 'object' || policy === null) return policy;
  const json = policy as Partial<PolicyJson>;
  const keys: unknown[] = Array.isArray(json.keys) ? [...(json.keys as unknown[])] : [];
  const idOf = (text: unknown): string | undefined => {
    try {
      return typeof text === 'string' ? parseTrustedKey(text).id : undefined;
    } catch {
      return undefined;
    }
  };
  for (const extra of extraKeys) {
    const id = idOf(extra);
    if (id === undefined || !keys.some((k) => idOf(k) === id)) keys.push(extra);
  }
  return { ...json, keys };
}
