import * as z from '../nix/zod.js';
import { REGISTRY_NAME } from './names.js';
import { CanonicalJsonError, canonicalJson } from './canonical.js';
import { changesSchema } from './changes.js';
import { messageProblem, nameProblem } from './text.js';
import { signatureForm } from './signatures.js';
import { MAX_ARMOR_LENGTH } from '../crypto/ssh-signature.js';

/**
 * A proposal: the signed object. Every field is part of what is signed, so the
 * object is strict (an unknown field is refused rather than signed and ignored)
 * and its canonical bytes (RFC 8785) are its identity. docs/protocol.md gives
 * the format byte for byte.
 */

/** RFC 3339 in UTC with a `Z`, as `created` and `expires` are written. */
const utcTime = z.iso.datetime();

export const MAX_MESSAGE_LENGTH = 4096;
export const MAX_CHANGES = 10_000;
/** A proposal open longer than this would outlive the keys that signed it. */
export const MAX_LIFETIME_MS = 90 * 24 * 3600 * 1000;
/**
 * How far a proposal's `created` may be ahead of the writer's clock when it is
 * submitted; so a version's `created` may be this much earlier than its proposal's.
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export const proposalSchema = z
  .strictObject({
    registry: z.string().check(z.regex(REGISTRY_NAME, 'must be a registry name like "global"')),
    base: z.int().check(z.gte(1), z.lte(9_999_999_999)),
    changes: changesSchema.check(z.minLength(1, 'must hold at least one change'), z.maxLength(MAX_CHANGES)),
    message: z.string().check(
      z.maxLength(MAX_MESSAGE_LENGTH),
      z.refine((m) => /[\p{L}\p{N}]/u.test(m), 'must say why (in words)'),
    ),
    created: utcTime,
    expires: utcTime,
  })
  .check(
    z.superRefine((p, ctx) => {
      const created = Date.parse(p.created);
      const expires = Date.parse(p.expires);
      if (expires <= created) ctx.addIssue({ code: 'custom', path: ['expires'], message: 'must be after created' });
      if (expires - created > MAX_LIFETIME_MS) {
        ctx.addIssue({ code: 'custom', path: ['expires'], message: 'must be at most 90 days after created' });
      }
      if (p.changes.filter((c) => c.op === 'policy').length > 1) {
        ctx.addIssue({ code: 'custom', path: ['changes'], message: 'may change the policy once' });
      }
      // What is signed is the canonical JSON: a value it cannot hold (a lone surrogate) is refused here.
      try {
        canonicalJson(p);
      } catch (error) {
        if (!(error instanceof CanonicalJsonError)) throw error;
        ctx.addIssue({ code: 'custom', path: [], message: error.message });
      }
    }),
  );

export type Proposal = z.infer<typeof proposalSchema>;

/**
 * A proposal as it may be submitted now: `proposalSchema` plus the rules for
 * text a proposer controls (src/protocol/text.ts), which apply from their
 * introduction on and so are not part of what a history must satisfy.
 */
export const newProposalSchema = proposalSchema.check(
  z.superRefine((p, ctx) => {
    const message = messageProblem(p.message);
    if (message) ctx.addIssue({ code: 'custom', path: ['message'], message });
    p.changes.forEach((change, i) => {
      if (change.op !== 'policy') return;
      change.policy.keys.forEach((key, k) => {
        const colon = Math.max(0, key.indexOf(':'));
        const path = ['changes', i, 'policy', 'keys', k];
        const problem = nameProblem(key.slice(0, colon));
        if (problem) ctx.addIssue({ code: 'custom', path, message: `key name ${problem}` });
        // An SSH key line's comment is shown to reviewers too (a Nix key's base64 cannot hold such text).
        const line = messageProblem(key.slice(colon + 1).replaceAll('\t', ' '));
        if (!problem && line)
          ctx.addIssue({ code: 'custom', path, message: `key ${line.replace('newlines and tabs', 'and tabs')}` });
      });
    });
  }),
);

/**
 * A signature as submitted, in either form (signatures.ts): a Nix signature's name (before
 * the first ':') is text a reviewer reads; an SSH signature names no key, and is read by the
 * signature checks (its armor is the whole text, at most MAX_ARMOR_LENGTH characters).
 */
const signatureText = z.withMeta(
  z.string().check(
    z.superRefine((text, ctx) => {
      if (signatureForm(text) === 'ssh') {
        if (text.length > MAX_ARMOR_LENGTH) {
          ctx.addIssue({ code: 'custom', message: `an SSH signature is at most ${MAX_ARMOR_LENGTH} characters` });
        }
        // Stored as sent: nothing invisible may ride along in the whitespace around the armor.
        const problem = messageProblem(text.replaceAll('\r\n', '\n'));
        if (problem) ctx.addIssue({ code: 'custom', message: `SSH signature ${problem}` });
        return;
      }
      const colon = text.indexOf(':');
      const problem = nameProblem(colon < 0 ? text : text.slice(0, colon));
      if (problem) ctx.addIssue({ code: 'custom', message: `signature name ${problem}` });
    }),
  ),
  {
    description:
      "A signature of the proposal's signing message (docs/protocol.md), in one of two forms: `NAME:BASE64` (Ed25519, Nix's format), or the armored text `ssh-keygen -Y sign -n flake-registry` writes (`-----BEGIN SSH SIGNATURE-----` … `-----END SSH SIGNATURE-----`, PROTOCOL.sshsig; ssh-ed25519 or sk-ssh-ed25519@openssh.com keys).",
  },
);

/** Each signature may be tried against every trusted key: a bound on the work one request can ask. */
export const MAX_SIGNATURES = 16;

/** `POST /registries/NAME/proposals`: a proposal with the signatures made over it. */
export const submissionSchema = z.strictObject({
  proposal: newProposalSchema,
  signatures: z
    .array(signatureText)
    .check(z.minLength(1, 'a proposal must carry at least one signature'), z.maxLength(MAX_SIGNATURES)),
});
export type Submission = z.infer<typeof submissionSchema>;

/** `POST /registries/NAME/proposals/ID/approvals`: one more maintainer's signature. */
export const approvalSchema = z.strictObject({ signature: signatureText });
export type Approval = z.infer<typeof approvalSchema>;

/** The policy a proposal sets, if it changes the policy. */
export function proposedPolicy(proposal: Proposal): { keys: string[]; threshold: number } | undefined {
  for (const change of proposal.changes) if (change.op === 'policy') return change.policy;
  return undefined;
}
