import type { ChangeSummary } from '../nix/diff.js';
import { applyChanges, type EditError } from '../nix/edit.js';
import { diffRegistries } from '../nix/diff.js';
import { formatImpact, resolutionImpact, type ImpactRow } from '../nix/impact.js';
import { lintRegistry, newFindings, type Finding } from '../nix/lint.js';
import { mergeChanges, type MergeResult } from '../nix/merge.js';
import type { Registry } from '../nix/registry.js';
import { entryChanges } from './changes.js';
import type { Proposal } from './proposal.js';

/**
 * What a proposal would do to a registry, decided before anyone signs and again
 * when it merges. Pure, so the writer and the offline verifier replay the same
 * code: the file a merge produces depends only on the base, the head and the
 * changes.
 */

/** The head a proposal is reviewed against, with what is worth keeping about it. */
export interface ReviewHead {
  readonly version: number;
  readonly registry: Registry;
  /** lintRegistry(registry), kept so only what a proposal adds is counted against it. */
  readonly findings: readonly Finding[];
}

export interface ImpactLine extends ImpactRow {
  /** `nixpkgs: github:NixOS/nixpkgs/nixpkgs-unstable -> github:NixOS/nixpkgs/nixos-25.05` */
  readonly text: string;
}

export type Review =
  | {
      readonly ok: true;
      readonly registry: Registry;
      /** From the head to the result: what the version record will carry. */
      readonly summary: ChangeSummary;
      /** From the base to the base with the changes applied: what the proposer wrote. */
      readonly baseSummary: ChangeSummary;
      /** Findings the change introduces (errors would block it; here there are none). */
      readonly findings: readonly Finding[];
      readonly resultFindings: readonly Finding[];
      readonly impact: readonly ImpactLine[];
    }
  | { readonly ok: false; readonly reason: 'conflict'; readonly entries: readonly string[] }
  | { readonly ok: false; readonly reason: 'invalid-change'; readonly error: EditError }
  | { readonly ok: false; readonly reason: 'lint'; readonly findings: readonly Finding[] }
  /** The changes leave the registry as it is (and change no policy): no version to make. */
  | { readonly ok: false; readonly reason: 'no-change' };

/** The changes of `proposal` (its base given) replayed on `head`: the file they make, or why not. */
export function replay(
  base: Registry,
  baseVersion: number,
  head: { readonly version: number; readonly registry: Registry },
  proposal: Proposal,
): MergeResult {
  const { edits, index } = entryChanges(proposal.changes);
  const merged = mergeChanges(base, head.registry, edits, baseVersion === head.version);
  if (merged.ok || merged.reason !== 'invalid-change') return merged;
  return { ...merged, error: { ...merged.error, change: index[merged.error.change] ?? merged.error.change } };
}

export function review(base: Registry, head: ReviewHead, proposal: Proposal): Review {
  const merged = replay(base, proposal.base, head, proposal);
  if (!merged.ok) return merged.reason === 'conflict' ? merged : { ...merged };
  const { added, removed, changed, moved } = merged.summary;
  const empty = added.length + removed.length + changed.length + moved.length === 0;
  if (empty && !proposal.changes.some((c) => c.op === 'policy')) return { ok: false, reason: 'no-change' };
  const resultFindings = lintRegistry(merged.registry);
  const findings = newFindings(head.findings, resultFindings);
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length > 0) return { ok: false, reason: 'lint', findings: errors };
  const impact = resolutionImpact(head.registry, merged.registry, merged.summary).map((row) => ({
    ...row,
    text: formatImpact(row),
  }));
  const baseSummary =
    proposal.base === head.version ? merged.summary : (proposedSummary(base, proposal) ?? merged.summary);
  return {
    ok: true,
    registry: merged.registry,
    summary: merged.summary,
    baseSummary,
    findings,
    resultFindings,
    impact,
  };
}

function proposedSummary(base: Registry, proposal: Proposal): ChangeSummary | undefined {
  const applied = applyChanges(base, entryChanges(proposal.changes).edits);
  return applied.ok ? diffRegistries(base, applied.registry).summary : undefined;
}
