/**
 * Two audits of one file, before and after a proposal (the same lock file or manifest against
 * two layer sets): the rows whose status or target the change moves. This is where a change
 * of branch on github, gitlab or sourcehut shows, which one audit cannot see (their locks keep
 * no branch; source-compare.ts), and where tarball redirects show whatever their locks hold.
 */
import type { Audit, AuditRow, AuditStatus } from './audit.js';
import { AuditError } from './audit.js';

/** Where a row's next update goes: the resolved URL, or Nix's error text; none for direct rows. */
export type AuditTarget = { readonly url: string } | { readonly error: string } | null;

export interface AuditSide {
  readonly status: AuditStatus;
  readonly target: AuditTarget;
}

export interface AuditDelta {
  readonly kind: AuditRow['kind'];
  readonly id: string;
  readonly before: AuditSide;
  readonly after: AuditSide;
  readonly statusChanged: boolean;
  readonly targetChanged: boolean;
}

export interface AuditComparison {
  /** Rows whose status kind or target differs, in the audits' row order. */
  readonly changed: readonly AuditDelta[];
  readonly unchanged: number;
}

function target(row: AuditRow): AuditTarget {
  const s = row.status;
  if (s.kind === 'not-found' || s.kind === 'error') return { error: s.message };
  return row.resolved === undefined ? null : { url: row.resolved.url };
}

const sameTarget = (a: AuditTarget, b: AuditTarget): boolean => JSON.stringify(a) === JSON.stringify(b);

const rowKey = (row: AuditRow): string => `${row.kind}\u0000${row.id}`;

export function compareAudits(before: Audit, after: Audit): AuditComparison {
  const mismatch = (): never => {
    throw new AuditError(
      'different-documents',
      'the two audits are not of the same file: their inputs or elements differ',
    );
  };
  if (before.document !== after.document || before.rows.length !== after.rows.length) mismatch();
  const afterRows = new Map(after.rows.map((r) => [rowKey(r), r]));
  const changed: AuditDelta[] = [];
  for (const b of before.rows) {
    const a = afterRows.get(rowKey(b)) ?? mismatch();
    const tb = target(b);
    const ta = target(a);
    const statusChanged = b.status.kind !== a.status.kind;
    const targetChanged = !sameTarget(tb, ta);
    if (statusChanged || targetChanged)
      changed.push({
        kind: b.kind,
        id: b.id,
        before: { status: b.status, target: tb },
        after: { status: a.status, target: ta },
        statusChanged,
        targetChanged,
      });
  }
  return { changed, unchanged: before.rows.length - changed.length };
}
