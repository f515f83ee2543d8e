import { sha256HexSync } from '../crypto/sha256.js';
import { diffRegistries, type ChangeSummary } from '../nix/diff.js';
import { writeRegistry, type Registry } from '../nix/registry.js';
import type { Policy } from './policy.js';
import type { Proposal } from './proposal.js';
import type { VersionRecord } from './record.js';

/**
 * Where every version is made, version 1 (genesis) and every later one: its
 * file's bytes as Nix writes them and its record, linked to its parent's record
 * and to the policy in force. The writer, the seeding of version 1 and the
 * tests' histories all make versions here, so a version's form has one source.
 */

export interface MadeVersion {
  readonly record: VersionRecord;
  readonly body: string;
}

interface Parts {
  readonly name: string;
  readonly number: number;
  readonly parentHash: string | null;
  readonly policySha256: string;
  readonly source: VersionRecord['source'];
  readonly registry: Registry;
  readonly summary: ChangeSummary;
  readonly created: string;
}

function makeVersion(parts: Parts): MadeVersion {
  const body = writeRegistry(parts.registry);
  const record: VersionRecord = {
    registry: parts.name,
    version: parts.number,
    sha256: sha256HexSync(body),
    parent: parts.parentHash,
    policy: parts.policySha256,
    created: parts.created,
    entries: parts.registry.entries.length,
    source: parts.source,
    changes: parts.summary,
  };
  return { record, body };
}

/** Version 1: the registry as embedded, with the genesis policy it starts under. */
export function genesisVersion(name: string, registry: Registry, policy: Policy, created: string): MadeVersion {
  return makeVersion({
    name,
    number: 1,
    parentHash: null,
    policySha256: policy.sha256,
    source: { kind: 'embedded', policy: policy.json },
    registry,
    summary: diffRegistries({ entries: [] }, registry).summary,
    created,
  });
}

/** The version a merge makes. */
export function nextVersion(args: {
  readonly parent: VersionRecord;
  readonly parentHash: string;
  readonly policySha256: string;
  readonly id: string;
  readonly proposal: Proposal;
  readonly signatures: readonly string[];
  readonly registry: Registry;
  readonly summary: ChangeSummary;
  readonly created: string;
}): MadeVersion {
  return makeVersion({
    name: args.parent.registry,
    number: args.parent.version + 1,
    parentHash: args.parentHash,
    policySha256: args.policySha256,
    source: { kind: 'proposal', id: args.id, proposal: args.proposal, signatures: [...args.signatures] },
    registry: args.registry,
    summary: args.summary,
    created: args.created,
  });
}
