import * as z from '../nix/zod.js';
import { SHA256_HEX } from '../protocol/names.js';
import { attrValueSchema } from '../nix/registry-schema.js';
import { policySchema } from '../protocol/changes.js';
import { proposalSchema } from '../protocol/proposal.js';
import { changeSummarySchema, versionRecordSchema } from '../protocol/record.js';

/**
 * The answers of the HTTP API, as zod schemas: the one description the Worker
 * (through the types inferred here), the command (which reads every answer
 * through them) and the OpenAPI document (generated from them) share. Objects
 * are strict: an answer that grows a member the description lacks fails the
 * contract tests instead of slipping by.
 */

/** A schema's output as the code passes it around: nothing in it is changed after it is made. */
export type Frozen<T> = T extends readonly (infer U)[]
  ? readonly Frozen<U>[]
  : T extends object
    ? { readonly [K in keyof T]: Frozen<T[K]> }
    : T;

const sha256 = z.string().check(z.regex(SHA256_HEX));
const time = z.iso.datetime();

export const headSchema = z.strictObject({
  version: z.int().check(z.positive()),
  sha256,
  created: time,
  /** Made in the same second as its parent: Last-Modified cannot tell the two apart. */
  sharedSecond: z.optional(z.literal(true)),
});
export type Head = z.infer<typeof headSchema>;

export const healthSchema = z.withMeta(z.strictObject({ ok: z.literal(true) }), { id: 'Health' });

const hostedRegistry = z.strictObject({
  name: z.string(),
  version: z.int().check(z.positive()),
  entries: z.int().check(z.nonnegative()),
  sha256,
  created: time,
  /** The immutable URL of its latest version's file. */
  url: z.string(),
});
const brokenRegistry = z.strictObject({
  name: z.string(),
  error: z.strictObject({ type: z.literal('urn:flake-registry:problem:registry-misconfigured'), detail: z.string() }),
});
export const registryListSchema = z.withMeta(
  z.strictObject({ registries: z.array(z.union([hostedRegistry, brokenRegistry])) }),
  { id: 'RegistryList' },
);
export type RegistryList = z.infer<typeof registryListSchema>;

export const versionRecordAnswer = z.withMeta(versionRecordSchema, { id: 'VersionRecord' });

export const versionPageSchema = z.withMeta(
  z.strictObject({
    registry: z.string(),
    latest: z.int().check(z.positive()),
    versions: z.array(versionRecordAnswer),
    /** The next (older) page, or null after version 1. */
    next: z.nullable(z.string()),
  }),
  { id: 'VersionPage' },
);
export type VersionPage = z.infer<typeof versionPageSchema>;

export const flakeRefSchema = z.withMeta(
  z.strictObject({
    /** As current Nix prints it. */
    url: z.string(),
    /** As `nix flake metadata --json` shows them, sorted. */
    attrs: z.record(z.string(), attrValueSchema),
    dir: z.optional(z.string()),
  }),
  { id: 'FlakeRef' },
);

export const stepSchema = z.withMeta(
  z.strictObject({
    registry: z.string(),
    version: z.int().check(z.nonnegative()),
    /** The entry's position in its file. */
    index: z.int().check(z.nonnegative()),
    exact: z.boolean(),
    from: z.string(),
    to: z.string(),
    dir: z.optional(z.string()),
  }),
  { id: 'Step' },
);
export type StepAnswer = z.infer<typeof stepSchema>;

export const failedEntrySchema = z.withMeta(
  z.strictObject({
    registry: z.string(),
    version: z.int().check(z.nonnegative()),
    index: z.int().check(z.nonnegative()),
    exact: z.boolean(),
    from: z.string(),
    to: z.string(),
  }),
  { id: 'FailedEntry' },
);

export const searchedSchema = z.array(z.strictObject({ name: z.string(), version: z.int().check(z.nonnegative()) }));

/** `--override-flake ORIGINAL RESOLVED` pairs as a request gave them, in order. */
export const overridesSchema = z.withMeta(z.array(z.strictObject({ original: z.string(), resolved: z.string() })), {
  id: 'Overrides',
});

export const resolutionSchema = z.withMeta(
  z.strictObject({
    ref: flakeRefSchema,
    resolved: flakeRefSchema,
    steps: z.array(stepSchema),
    registries: searchedSchema,
    /** Present when the request gave overrides; their steps name the registry `--override-flake`. */
    overrides: z.optional(overridesSchema),
  }),
  { id: 'Resolution' },
);
export type ResolutionAnswer = z.infer<typeof resolutionSchema>;

export const PROPOSAL_STATUSES = ['open', 'merged', 'conflict', 'failed'] as const;
export const proposalStatusSchema = z.enum(PROPOSAL_STATUSES);
export type ProposalStatus = z.infer<typeof proposalStatusSchema>;

export const thresholdSchema = z.withMeta(
  z.strictObject({
    have: z.int().check(z.nonnegative()),
    need: z.int().check(z.positive()),
    /** Names of the policy's keys that signed, as the policy lists them. */
    signers: z.array(z.string()),
    /** Names of its keys that have not signed: who can still help meet this threshold. */
    remaining: z.array(z.string()),
  }),
  { id: 'Threshold' },
);
export type ThresholdView = z.infer<typeof thresholdSchema>;

export const findingSchema = z.withMeta(
  z.strictObject({
    severity: z.enum(['error', 'warning']),
    kind: z.enum([
      'duplicate-from',
      'cycle',
      'shadowed',
      'dangling',
      'override-ref',
      'override-rev',
      'unsafe-text',
      'old-nix',
      'unfetchable-url',
    ]),
    entry: z.int().check(z.nonnegative()),
    from: z.string(),
    exact: z.boolean(),
    message: z.string(),
  }),
  { id: 'Finding' },
);

const impactOutcome = z.union([
  z.strictObject({
    url: z.string(),
    dir: z.optional(z.string()),
    /** The resolved attributes: they may hold more than the URL shows (a narHash, a name). */
    attrs: z.record(z.string(), attrValueSchema),
  }),
  z.strictObject({ error: z.string() }),
]);

export const impactLineSchema = z.withMeta(
  z.strictObject({
    /** The ref looked up, as Nix prints it. */
    ref: z.string(),
    before: impactOutcome,
    after: impactOutcome,
    changed: z.boolean(),
    /** `nixpkgs: github:NixOS/nixpkgs/nixpkgs-unstable -> github:NixOS/nixpkgs/nixos-25.05` */
    text: z.string(),
  }),
  { id: 'ImpactLine' },
);

export const policyDiffSchema = z.withMeta(
  z.strictObject({
    threshold: z.strictObject({ from: z.int().check(z.positive()), to: z.int().check(z.positive()) }),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    renamed: z.array(z.strictObject({ from: z.string(), to: z.string() })),
  }),
  { id: 'PolicyDiff' },
);
export type PolicyDiffView = z.infer<typeof policyDiffSchema>;

export const reviewSchema = z.withMeta(
  z.strictObject({
    /** The proposal's own changes against its base version. */
    base: z.strictObject({ version: z.int().check(z.positive()), changes: changeSummarySchema }),
    /** The version it was reviewed against (the head then), and what it changes there. */
    head: z.int().check(z.positive()),
    changes: changeSummarySchema,
    /** For a policy change: the keys it adds, removes and renames, and the threshold before and after. */
    policy: z.optional(policyDiffSchema),
    /** Findings the change introduces: warnings only (errors refuse it). */
    lint: z.array(findingSchema),
    impact: z.array(impactLineSchema),
    /** Rows left out of a very large review (the first 500 of each are kept). */
    lintOmitted: z.optional(z.int().check(z.positive())),
    impactOmitted: z.optional(z.int().check(z.positive())),
  }),
  { id: 'Review' },
);
export type ReviewView = z.infer<typeof reviewSchema>;

export const proposalViewSchema = z.withMeta(
  z.strictObject({
    id: sha256,
    registry: z.string(),
    status: proposalStatusSchema,
    proposal: proposalSchema,
    submitted: time,
    signatures: z.array(
      z.strictObject({
        key: z.string(),
        signature: z.string(),
        added: time,
        /** Whether it counts towards the thresholds: false for a key the policy no longer trusts. */
        counted: z.boolean(),
      }),
    ),
    approvals: z.strictObject({
      /** The policy the signatures are counted against: in force now, or the one that merged it. */
      policy: z.extend(thresholdSchema, { sha256, since: z.int().check(z.positive()) }),
      /** Present when the proposal changes the policy: the new policy's threshold must be met too. */
      newPolicy: z.optional(thresholdSchema),
      /** How many more distinct keys must sign, at the least (0 once merged). */
      missing: z.int().check(z.nonnegative()),
    }),
    review: reviewSchema,
    /** The version it became. */
    version: z.optional(z.int().check(z.positive())),
    /** Why it can no longer merge (status conflict or failed). */
    outcome: z.optional(
      z.strictObject({
        reason: z.enum(['conflict', 'invalid-change', 'lint-failed', 'no-change', 'expired']),
        detail: z.string(),
        /** conflict: the entries changed since its base. */
        entries: z.optional(z.array(z.string())),
        /** invalid-change: the index of the change that no longer applies. */
        change: z.optional(z.int().check(z.nonnegative())),
        /** lint-failed: what the change would introduce. */
        findings: z.optional(z.array(findingSchema)),
      }),
    ),
  }),
  { id: 'ProposalView' },
);
export type ProposalView = z.infer<typeof proposalViewSchema>;

export const proposalSummarySchema = z.withMeta(
  z.strictObject({
    id: sha256,
    status: proposalStatusSchema,
    base: z.int().check(z.positive()),
    message: z.string(),
    submitted: time,
    expires: time,
    /** Distinct trusted keys that signed. */
    signatures: z.int().check(z.nonnegative()),
    version: z.optional(z.int().check(z.positive())),
  }),
  { id: 'ProposalSummary' },
);
export type ProposalSummary = z.infer<typeof proposalSummarySchema>;

export const proposalListSchema = z.withMeta(
  z.strictObject({ registry: z.string(), proposals: z.array(proposalSummarySchema) }),
  { id: 'ProposalList' },
);
export type ProposalList = z.infer<typeof proposalListSchema>;

export const policyAnswerSchema = z.withMeta(
  z.extend(policySchema, {
    registry: z.string(),
    sha256,
    /** The version from which this policy is in force. */
    since: z.int().check(z.positive()),
  }),
  { id: 'Policy' },
);
export type PolicyAnswer = z.infer<typeof policyAnswerSchema>;

/** An attribute a redirect changes: what the lock holds, what the registries give now (null for none). */
const attrChangeSchema = z.strictObject({
  attribute: z.string(),
  from: z.nullable(attrValueSchema),
  to: z.nullable(attrValueSchema),
});

export const AUDIT_STATUSES = [
  'same-source',
  'redirected',
  'pinned',
  'unverifiable',
  'not-found',
  'error',
  'direct',
  'not-from-flake',
] as const;

export const auditStatusSchema = z.withMeta(
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('same-source') }),
    z.strictObject({ kind: z.literal('redirected'), changes: z.array(attrChangeSchema) }),
    z.strictObject({ kind: z.literal('pinned'), by: z.enum(['original', 'registry']) }),
    z.strictObject({ kind: z.literal('unverifiable'), lockedUrl: z.string(), resolvedUrl: z.string() }),
    z.strictObject({ kind: z.literal('not-found'), message: z.string() }),
    z.strictObject({
      kind: z.literal('error'),
      error: z.enum(['invalid-ref', 'invalid-registry', 'cycle', 'override']),
      message: z.string(),
    }),
    z.strictObject({ kind: z.literal('direct') }),
    z.strictObject({ kind: z.literal('not-from-flake') }),
  ]),
  { id: 'AuditStatus' },
);

export const auditRowSchema = z.withMeta(
  z.strictObject({
    /** `input`: a lock file's input; `element`: a profile's element. */
    kind: z.enum(['input', 'element']),
    /** The input path (`home-manager/nixpkgs`) or the element's name. */
    id: z.string(),
    node: z.optional(z.string()),
    follows: z.optional(z.string()),
    flake: z.optional(z.boolean()),
    attrPath: z.optional(z.string()),
    original: z.optional(flakeRefSchema),
    pinsRev: z.optional(z.boolean()),
    locked: z.optional(flakeRefSchema),
    /** What the registries resolve the original to now. */
    resolved: z.optional(flakeRefSchema),
    steps: z.optional(z.array(stepSchema)),
    entry: z.optional(failedEntrySchema),
    status: auditStatusSchema,
  }),
  { id: 'AuditRow' },
);

export const auditSchema = z.withMeta(
  z.strictObject({
    document: z.enum(['flake.lock', 'manifest.json']),
    version: z.int().check(z.positive()),
    registries: searchedSchema,
    overrides: z.optional(overridesSchema),
    rows: z.array(auditRowSchema),
    warnings: z.array(z.string()),
  }),
  { id: 'Audit' },
);
export type AuditAnswer = z.infer<typeof auditSchema>;

const auditTargetSchema = z.union([
  z.strictObject({ url: z.string() }),
  z.strictObject({ error: z.string() }),
  z.null(),
]);

export const proposalAuditSchema = z.withMeta(
  z.strictObject({
    registry: z.string(),
    proposal: sha256,
    status: proposalStatusSchema,
    /** The version the proposal is audited against (the head) and the version it makes (or made). */
    from: z.int().check(z.positive()),
    to: z.int().check(z.positive()),
    before: auditSchema,
    after: auditSchema,
    /** The rows whose status or target the proposal moves, in row order. */
    changed: z.array(
      z.strictObject({
        kind: z.enum(['input', 'element']),
        id: z.string(),
        before: z.strictObject({ status: auditStatusSchema, target: auditTargetSchema }),
        after: z.strictObject({ status: auditStatusSchema, target: auditTargetSchema }),
        statusChanged: z.boolean(),
        targetChanged: z.boolean(),
      }),
    ),
    unchanged: z.int().check(z.nonnegative()),
  }),
  { id: 'ProposalAudit' },
);
export type ProposalAuditAnswer = z.infer<typeof proposalAuditSchema>;
