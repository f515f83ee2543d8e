import { policyDiff, type Policy } from '../protocol/policy.js';
import { signatureLabel, type SignatureProblem } from '../protocol/signatures.js';
import type { VersionRecord } from '../protocol/record.js';
import type { review } from '../protocol/review.js';
import type { Head } from '../store/records.js';
import type { ReviewView, WriteOutcome, WriteProblem } from './contract.js';

/** How the writer's decisions are told: refusals as problems of the HTTP API, reviews as stored. */

/**
 * The head pointer of a version. `sharedSecond` says that its parent was made in
 * the same second: Last-Modified (whole seconds) cannot tell the two apart, so a
 * date alone never proves that a client holds this head (docs/storage.md).
 */
export function headOf(record: VersionRecord, parentCreated: string | null): Head {
  const second = (iso: string) => Math.floor(Date.parse(iso) / 1000);
  const shared = parentCreated !== null && second(parentCreated) === second(record.created);
  return {
    version: record.version,
    sha256: record.sha256,
    created: record.created,
    ...(shared ? { sharedSecond: true } : {}),
  };
}

export function unknownProposal(id: string): WriteOutcome {
  return {
    ok: false,
    problem: {
      kind: 'unknown-proposal',
      detail: `no proposal ${id} is known: it never existed, or it was open and expired`,
    },
  };
}

export function signatureProblem(p: SignatureProblem): WriteProblem {
  switch (p.kind) {
    case 'malformed-signature':
      return { kind: p.kind, detail: p.detail };
    case 'untrusted-key':
      return {
        kind: p.kind,
        detail: `signature ${signatureLabel(p.signature)} is not by a key the registry trusts${p.detail === undefined ? '' : `: ${p.detail}`}`,
        extensions: { name: p.name },
      };
    case 'bad-signature':
      return {
        kind: p.kind,
        detail:
          p.detail === undefined
            ? `signature ${signatureLabel(p.signature)} does not verify: it was made over other bytes or by another key`
            : `signature ${signatureLabel(p.signature)} is refused: ${p.detail}`,
        extensions: { name: p.name },
      };
    case 'duplicate-signer':
      return {
        kind: p.kind,
        detail: `two signatures are by one key ('${p.key}'): ${signatureLabel(p.signatures[0])} and ${signatureLabel(p.signatures[1])}; a key counts once, whatever form it signs in`,
        extensions: { key: p.key },
      };
  }
}

export function reviewProblem(r: Exclude<ReturnType<typeof review>, { ok: true }>, head: number): WriteProblem {
  switch (r.reason) {
    case 'conflict':
      return {
        kind: 'conflict',
        detail: `entries this proposal changes were changed since its base (head is version ${head}): ${r.entries.join(', ')}`,
        extensions: { entries: r.entries },
      };
    case 'invalid-change':
      return { kind: 'invalid-change', detail: r.error.detail, extensions: { change: r.error.change } };
    case 'no-change':
      return { kind: 'no-change', detail: 'the proposal leaves the registry and its policy as they are' };
    case 'lint':
      return {
        kind: 'lint-failed',
        detail: r.findings.map((f) => f.message).join('; '),
        extensions: { findings: r.findings },
      };
  }
}

/** Rows of impact and lint a stored review keeps; the rest are counted (the changes are complete). */
const REVIEW_ROWS = 500;

export function reviewView(
  base: number,
  head: number,
  r: Extract<ReturnType<typeof review>, { ok: true }>,
  inForce?: Policy,
  proposed?: Policy,
): ReviewView {
  return {
    ...(inForce && proposed ? { policy: policyDiff(inForce, proposed) } : {}),
    base: { version: base, changes: r.baseSummary },
    head,
    changes: r.summary,
    lint: r.findings.slice(0, REVIEW_ROWS),
    impact: r.impact.slice(0, REVIEW_ROWS),
    ...(r.findings.length > REVIEW_ROWS ? { lintOmitted: r.findings.length - REVIEW_ROWS } : {}),
    ...(r.impact.length > REVIEW_ROWS ? { impactOmitted: r.impact.length - REVIEW_ROWS } : {}),
  };
}
