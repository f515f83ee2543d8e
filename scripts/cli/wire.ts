import * as z from '../../src/nix/zod.js';
import { firstIssue } from '../../src/protocol/issues.js';
import { SHA256_HEX } from '../../src/protocol/names.js';
import type { Change } from '../../src/protocol/changes.js';
import { newProposalSchema, submissionSchema, type Proposal, type Submission } from '../../src/protocol/proposal.js';
import { proposalBytes, proposalId } from '../../src/protocol/signing.js';
import type { Signer } from './signer.js';
import { CliError } from './errors.js';
import { escapeInvisibleInJson } from '../../src/protocol/text.js';

/**
 * Proposals and approvals as they travel: over HTTP, and in files for keys on
 * machines that never talk to the server.
 *
 * - a signed proposal: `{"proposal": {...}, "signatures": ["name:base64", ...]}`, the body of
 *   `POST /registries/NAME/proposals` (docs/protocol.md);
 * - an approval: `{"registry": NAME, "id": ID, "signature": "name:base64"}`, the body of
 *   `POST /registries/NAME/proposals/ID/approvals` plus the registry and id it goes to.
 */

export const approvalFileSchema = z.strictObject({
  registry: z.string(),
  id: z.string().check(z.regex(SHA256_HEX, 'must be 64 lowercase hex digits')),
  signature: z.string(),
});
export type ApprovalFile = z.infer<typeof approvalFileSchema>;

export type WireFile = { kind: 'proposal'; submission: Submission } | { kind: 'approval'; approval: ApprovalFile };

/** A proposal file or an approval file, told apart by their members. */
export function readWireFile(json: unknown, source: string): WireFile {
  if (typeof json === 'object' && json !== null && 'proposal' in json) {
    const parsed = submissionSchema.safeParse(json);
    if (!parsed.success) throw new CliError(`${source} is not a signed proposal: ${firstIssue(parsed.error.issues)}`);
    // What is signed is the proposal as written, not as parsed back.
    const raw = (json as { proposal: Submission['proposal'] }).proposal;
    return { kind: 'proposal', submission: { proposal: raw, signatures: parsed.data.signatures } };
  }
  if (typeof json === 'object' && json !== null && 'signature' in json) {
    const parsed = approvalFileSchema.safeParse(json);
    if (!parsed.success) throw new CliError(`${source} is not an approval: ${firstIssue(parsed.error.issues)}`);
    return { kind: 'approval', approval: parsed.data };
  }
  throw new CliError(
    `${source} is neither a signed proposal ({"proposal", "signatures"}) nor an approval ({"registry", "id", "signature"})`,
  );
}

export interface ProposalDraft {
  readonly registry: string;
  readonly base: number;
  readonly changes: readonly Change[];
  readonly message: string;
  readonly now: Date;
  readonly lifetimeMs: number;
}

/** RFC 3339 UTC to the second, as the protocol's examples write times. */
const seconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A proposal checked against the protocol's schema, so the server never sees one it must refuse for its shape. */
export function makeProposal(draft: ProposalDraft): Proposal {
  const created = Math.floor(draft.now.getTime() / 1000) * 1000;
  const parsed = newProposalSchema.safeParse({
    registry: draft.registry,
    base: draft.base,
    changes: draft.changes,
    message: draft.message,
    created: seconds(created),
    expires: seconds(created + draft.lifetimeMs),
  });
  if (!parsed.success) throw new CliError(`the proposal is invalid: ${firstIssue(parsed.error.issues)}`);
  return parsed.data;
}

export async function idOf(proposal: unknown): Promise<string> {
  return proposalId(proposalBytes(proposal));
}

export async function signedProposal(signer: Signer, proposal: Proposal): Promise<Submission> {
  return { proposal, signatures: [await signer.signProposal(proposal)] };
}

/** JSON files the CLI writes: two-space indented, final newline. */
export const fileText = (value: unknown): string => `${escapeInvisibleInJson(JSON.stringify(value, null, 2))}\n`;
