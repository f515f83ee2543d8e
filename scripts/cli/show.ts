import type { ChangeSummary } from '../../src/nix/diff.js';
import { diffRegistries } from '../../src/nix/diff.js';
import { labelOf } from '../../src/nix/entry-key.js';
import { flakeRefToString } from '../../src/nix/flakeref.js';
import { attrChanges, formatImpact, resolutionImpact, type ImpactRow } from '../../src/nix/impact.js';
import type { Registry, RegistryEntry } from '../../src/nix/registry.js';
import { showInvisible } from '../../src/protocol/text.js';
import type { ProposalSummary, ProposalView, ThresholdView } from '../../src/api/answers.js';

/** How the CLI prints diffs, impact and proposals as text. */

/** An entry's target as Nix prints a flake ref (`dir` in the query). */
export function targetOf(entry: RegistryEntry): string {
  try {
    return flakeRefToString({ input: entry.to, dir: entry.dir ?? '' });
  } catch {
    return JSON.stringify(entry.to);
  }
}

export interface EntryDiff {
  readonly summary: ChangeSummary;
  readonly impact: readonly ImpactRow[];
  /** `+ flake:x -> github:o/x`, `~ flake:y: github:o/y -> github:o/y/v2`, … */
  readonly lines: readonly string[];
}

/** The entry diff from `before` to `after`, with targets, and the resolution impact. */
export function entryDiff(before: Registry, after: Registry): EntryDiff {
  const { summary } = diffRegistries(before, after);
  const byLabel = (r: Registry) => {
    const map = new Map<string, RegistryEntry>();
    for (const e of r.entries) if (!map.has(labelOf(e))) map.set(labelOf(e), e);
    return map;
  };
  const [b, a] = [byLabel(before), byLabel(after)];
  const target = (map: Map<string, RegistryEntry>, label: string) => {
    const e = map.get(label);
    return e === undefined ? '?' : targetOf(e);
  };
  const position = (label: string) => {
    const i = after.entries.findIndex((e) => labelOf(e) === label);
    return i < 0 ? '' : ` (now entry ${i})`;
  };
  const lines = [
    ...summary.added.map((l) => `+ ${l} -> ${target(a, l)}`),
    ...summary.removed.map((l) => `- ${l} -> ${target(b, l)}`),
    ...summary.changed.map((l) => {
      const [was, now] = [b.get(l), a.get(l)];
      const line = `~ ${l}: ${target(b, l)} -> ${target(a, l)}`;
      if (!was || !now || target(b, l) !== target(a, l)) return line;
      // The same URL: what changed is what it does not show (a narHash, a name).
      const attrs = (e: RegistryEntry) => (e.dir === undefined ? e.to : { ...e.to, dir: e.dir });
      return `${line} (attributes: ${attrChanges(attrs(was), attrs(now)).join('; ')})`;
    }),
    ...summary.moved.map((l) => `^ ${l} moved${position(l)}`),
  ];
  return { summary, impact: resolutionImpact(before, after, summary), lines };
}

export const isEmpty = (s: ChangeSummary): boolean =>
  s.added.length + s.removed.length + s.changed.length + s.moved.length === 0;

/** A change summary by labels only (what a proposal view carries). */
export function summaryLines(s: ChangeSummary): string[] {
  return [
    ...s.added.map((l) => `+ ${l}`),
    ...s.removed.map((l) => `- ${l}`),
    ...s.changed.map((l) => `~ ${l}`),
    ...s.moved.map((l) => `^ ${l} moved`),
  ];
}

export function countSummary(s: ChangeSummary): string {
  const parts = [
    s.added.length > 0 ? `${s.added.length} added` : '',
    s.removed.length > 0 ? `${s.removed.length} removed` : '',
    s.changed.length > 0 ? `${s.changed.length} changed` : '',
    s.moved.length > 0 ? `${s.moved.length} moved` : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? 'no entry changes' : parts.join(', ');
}

const indent = (lines: readonly string[]): string[] => lines.map((l) => `  ${l}`);

/** A diff and its impact as text blocks. */
export function diffText(diff: EntryDiff): string {
  const impact = diff.impact.map((row) => formatImpact(row));
  return [
    'changes:',
    ...indent(diff.lines.length > 0 ? diff.lines : ['none']),
    'resolution impact:',
    ...indent(impact.length > 0 ? impact : ['none']),
  ].join('\n');
}

const omitted = (count: number | undefined, what: string): string[] =>
  count === undefined || count === 0 ? [] : [`  … and ${count} more ${what} rows the service left out`];

function threshold(name: string, t: ThresholdView): string {
  const who = t.signers.length === 0 ? 'no signers yet' : `signed by ${t.signers.join(', ')}`;
  const short = Math.max(0, t.need - t.have);
  const more = short === 0 ? '' : `; ${short} more from ${t.remaining.join(', ')}`;
  return `${name}: ${t.have} of ${t.need} (${who}${more})`;
}

/** What a proposal still needs, in one line. */
export function needsLine(view: ProposalView): string {
  switch (view.status) {
    case 'merged':
      return `merged as version ${view.version ?? '?'}`;
    case 'open': {
      const n = view.approvals.missing;
      const count = `${n} more approval${n === 1 ? '' : 's'} needed`;
      // Both thresholds must be met; a key both policies list counts for both.
      return view.approvals.newPolicy && n > 0 ? `${count} (to meet both the policy in force and the new one)` : count;
    }
    case 'conflict':
    case 'failed':
      return `can no longer merge: ${view.outcome?.detail ?? view.status}`;
  }
}

/** A policy change as a reviewer needs it: the threshold, and every key added, removed or renamed. */
function policyLines(view: ProposalView): string[] {
  const diff = view.review.policy;
  if (!diff) return [];
  const keys = (what: string, list: readonly string[]) =>
    list.length === 0 ? [] : [`    ${what}:`, ...list.map((k) => `      ${k}`)];
  return [
    'policy change:',
    `    threshold ${diff.threshold.from} -> ${diff.threshold.to}`,
    ...keys('adds', diff.added),
    ...keys('removes (their signatures stop counting)', diff.removed),
    ...keys(
      'renames',
      diff.renamed.map((r) => `${r.from} -> ${r.to}`),
    ),
  ];
}

/**
 * Text from a proposer, made safe to print: every line of it is marked, so it
 * cannot pass itself off as the review around it, and every invisible
 * character (terminal escapes, bidi controls, zero-width characters) is shown
 * escaped (src/protocol/text.ts).
 */
export function quotedText(text: string): string[] {
  return text.split('\n').map((line) => `  | ${showInvisible(line)}`);
}

/** Which policy counted the signatures: the one in force, or for a merged proposal the one that merged it. */
function policyName(view: ProposalView): string {
  // `since` is the version that set the policy; it governs the versions after it.
  const since = view.approvals.policy.since;
  return view.status === 'merged'
    ? `policy that merged it (set by version ${since})`
    : `policy in force (set by version ${since})`;
}

/** A proposal with its review, as `show ID` and `approve` print it. */
export function proposalText(view: ProposalView): string {
  const p = view.proposal;
  const review = view.review;
  const againstBase = review.base.version !== review.head;
  return [
    `proposal ${view.id}`,
    `  registry ${view.registry}, base version ${p.base}, status ${view.status}`,
    '  message:',
    ...quotedText(p.message).map((line) => `  ${line}`),
    `  created ${p.created}, expires ${p.expires}`,
    `changes against version ${review.head}${againstBase ? ` (written against version ${review.base.version})` : ''}:`,
    ...indent(summaryLines(review.changes).length > 0 ? summaryLines(review.changes) : ['none']),
    ...policyLines(view),
    'resolution impact:',
    ...indent(review.impact.length > 0 ? review.impact.map((row) => row.text) : ['none']),
    ...omitted(review.impactOmitted, 'impact'),
    ...(review.lint.length > 0 ? ['lint:', ...indent(review.lint.map((f) => `${f.severity}: ${f.message}`))] : []),
    ...omitted(review.lintOmitted, 'lint'),
    'signatures:',
    ...indent(signatureLines(view)),
  ].join('\n');
}

/** Signatures counted against each threshold, and what is still needed. */
export function signatureLines(view: ProposalView): string[] {
  const uncounted = view.signatures.filter((s) => !s.counted).map((s) => s.key.split(':')[0] ?? s.key);
  return [
    threshold(policyName(view), view.approvals.policy),
    ...(view.approvals.newPolicy ? [threshold('new policy', view.approvals.newPolicy)] : []),
    ...(uncounted.length > 0
      ? [`not counted: ${uncounted.join(', ')} (keys the policy no longer trusts; their signatures stay on record)`]
      : []),
    needsLine(view),
  ];
}

/** One line per proposal of a listing. */
export function proposalLine(p: ProposalSummary): string {
  const state = p.status === 'merged' && p.version !== undefined ? `merged as version ${p.version}` : p.status;
  const signed = `${p.signatures} signature${p.signatures === 1 ? '' : 's'}`;
  return `${p.id}  ${state}, base ${p.base}, ${signed}, expires ${p.expires}  ${JSON.stringify(p.message)}`;
}
