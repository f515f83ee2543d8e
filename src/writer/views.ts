import type { Policy } from '../protocol/policy.js';
import { shortfall, tally } from '../protocol/signatures.js';
import type { ProposalSummary, ProposalView, ReviewView } from './contract.js';
import type { PolicyInForce, WriterState } from './decide.js';
import type { ProposalRow } from './sql.js';

/** Proposals as the API shows them, read from the writer's state. */

/**
 * The policy a proposal's signatures are counted against: the one in force
 * now while it is open or closed unmerged, and once merged the one that merged
 * it (in force on the head it merged onto), whatever has been rotated since.
 */
function decidingPolicy(state: WriterState, row: ProposalRow): PolicyInForce {
  if (row.version === null) return state.policy;
  const onto = row.version - 1;
  let found: PolicyInForce | undefined;
  for (const p of state.policies) if (p.since <= onto) found = p;
  return found ?? state.policy;
}

export function proposalView(state: WriterState, row: ProposalRow, review: ReviewView): ProposalView {
  const proposal = state.proposalBody(row.id);
  const signatures = state.signatures(row.id);
  const keys = signatures.map((s) => s.key_id);
  const deciding = decidingPolicy(state, row);
  const proposed: Policy | undefined = state.proposedPolicy(row.id);
  const policy = { ...tally(deciding.policy, keys), sha256: deciding.policy.sha256, since: deciding.since };
  return {
    id: row.id,
    registry: proposal.registry,
    status: row.status,
    proposal,
    submitted: row.submitted,
    signatures: signatures.map((s) => ({
      key: s.key,
      signature: s.signature,
      added: s.added,
      counted:
        deciding.policy.keys.some((k) => k.id === s.key_id) || proposed?.keys.some((k) => k.id === s.key_id) === true,
    })),
    approvals: {
      policy,
      ...(proposed ? { newPolicy: tally(proposed, keys) } : {}),
      missing: row.status === 'merged' ? 0 : shortfall(deciding.policy, proposed, keys),
    },
    review,
    ...(row.version === null ? {} : { version: row.version }),
    ...(row.outcome === null ? {} : { outcome: JSON.parse(row.outcome) as ProposalView['outcome'] & object }),
  };
}

export function proposalSummary(state: WriterState, row: ProposalRow): ProposalSummary {
  return {
    id: row.id,
    status: row.status,
    base: row.base,
    message: row.message,
    submitted: row.submitted,
    expires: new Date(row.expires_ms).toISOString(),
    signatures: state.signatures(row.id).length,
    ...(row.version === null ? {} : { version: row.version }),
  };
}
