import * as z from '../nix/zod.js';
import {
  type Frozen,
  failedEntrySchema,
  findingSchema,
  flakeRefSchema,
  overridesSchema,
  proposalStatusSchema,
  searchedSchema,
  stepSchema,
} from './answers.js';

/**
 * Every error the service answers, as RFC 9457 problem details: for each kind,
 * its status, its title and the members it adds to the standard ones. `type`
 * is `urn:flake-registry:problem:KIND`, stable so clients can branch on it;
 * `detail` carries Nix's own error text where Nix has one. The HTTP layer
 * builds problems from this table (src/http/problem.ts) and the OpenAPI
 * document describes each answer from it.
 */

/** What every `/resolve` error adds: the ref as given, and how far the lookup got. */
const lookup = {
  input: z.nullable(z.string()),
  ref: z.optional(flakeRefSchema),
  steps: z.optional(z.array(stepSchema)),
  registries: z.optional(searchedSchema),
  /** The entry whose target could not take the ref or rev. */
  entry: z.optional(failedEntrySchema),
  overrides: z.optional(overridesSchema),
};

const none = {};

export const PROBLEMS = {
  'invalid-ref': { status: 400, title: 'Invalid flake reference', members: none },
  'invalid-request': {
    status: 400,
    title: 'Invalid request',
    members: { parameter: z.optional(z.string()) },
  },
  'invalid-json': { status: 400, title: 'Body is not JSON', members: none },
  'invalid-proposal': {
    status: 400,
    title: 'Invalid proposal',
    members: { errors: z.array(z.strictObject({ path: z.string(), message: z.string() })) },
  },
  'wrong-registry': { status: 400, title: 'Proposal for another registry', members: none },
  'malformed-signature': { status: 400, title: 'Malformed signature', members: none },
  'duplicate-signer': { status: 400, title: 'One key signed twice', members: { key: z.string() } },
  'untrusted-key': {
    status: 403,
    title: 'Key not trusted',
    members: { name: z.optional(z.string()), removedBy: z.optional(z.int().check(z.positive())) },
  },
  'bad-signature': { status: 403, title: 'Signature does not verify', members: { name: z.string() } },
  'unknown-proposal': { status: 404, title: 'Unknown proposal', members: none },
  conflict: { status: 409, title: 'Conflicting change', members: { entries: z.array(z.string()) } },
  'not-open': { status: 409, title: 'Proposal not open', members: { proposalStatus: proposalStatusSchema } },
  'payload-too-large': { status: 413, title: 'Body too large', members: none },
  'uri-too-long': { status: 414, title: 'URL too long', members: none },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type', members: none },
  expired: { status: 422, title: 'Proposal expired', members: none },
  'not-yet-valid': { status: 422, title: 'Proposal dated in the future', members: none },
  'unknown-base': { status: 422, title: 'Unknown base version', members: none },
  'invalid-change': {
    status: 422,
    title: 'Change cannot be applied',
    members: { change: z.int().check(z.nonnegative()) },
  },
  'lint-failed': {
    status: 422,
    title: 'Change fails the registry checks',
    members: { findings: z.array(findingSchema) },
  },
  'no-change': { status: 422, title: 'Proposal changes nothing', members: none },
  'invalid-policy': { status: 422, title: 'Invalid policy', members: none },
  'invalid-document': {
    status: 422,
    title: 'Not a lock file or profile manifest Nix reads',
    members: {
      /** Why, stably: `unrecognised`, a lock file's (`unsupported-version`, `follows-cycle`, …) or a manifest's. */
      code: z.string(),
      /** The lock node the problem is in or names. */
      node: z.optional(z.string()),
      /** The manifest element (its key, or its place). */
      element: z.optional(z.string()),
    },
  },
  'not-found': { status: 404, title: 'Flake not found in the registries', members: none },
  'unknown-registry': { status: 404, title: 'Unknown registry', members: none },
  'unknown-version': { status: 404, title: 'Unknown registry version', members: none },
  'no-route': { status: 404, title: 'No such resource', members: none },
  'no-log-key': { status: 404, title: 'No transparency log key', members: none },
  'unknown-tile': { status: 404, title: 'No such log tile', members: none },
  'method-not-allowed': { status: 405, title: 'Method not allowed', members: none },
  'precondition-failed': { status: 412, title: 'Precondition failed', members: none },
  cycle: { status: 422, title: 'Cycle in the flake registries', members: none },
  override: { status: 422, title: 'Override not applicable', members: none },
  'invalid-registry': { status: 500, title: 'Invalid registry file', members: none },
  'registry-misconfigured': {
    status: 500,
    title: 'Registry misconfigured',
    members: { registry: z.optional(z.string()) },
  },
  'storage-unavailable': { status: 503, title: 'Storage temporarily unavailable', members: none },
  internal: { status: 500, title: 'Internal error', members: none },
} as const satisfies Record<string, { status: number; title: string; members: z.core.$ZodShape }>;

export type ProblemKind = keyof typeof PROBLEMS;
export const PROBLEM_KINDS = Object.keys(PROBLEMS) as ProblemKind[];

/** The members a problem of `K` may add, as its constructor takes them. */
export type ProblemMembers<K extends ProblemKind> = Frozen<z.input<z.ZodMiniObject<(typeof PROBLEMS)[K]['members']>>>;

export const problemType = (kind: ProblemKind): string => `urn:flake-registry:problem:${kind}`;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The problem+json document of one kind. `resolve` adds what every `/resolve`
 * error carries (the ref as given, and the lookup's context where there is one).
 */
export function problemSchema(kind: ProblemKind, options: { resolve?: boolean } = {}) {
  const key = `${options.resolve === true ? 'resolve:' : ''}${kind}`;
  let schema = schemas.get(key);
  if (!schema) {
    const { status, title, members } = PROBLEMS[kind];
    schema = z.withMeta(
      z.strictObject({
        ...members,
        ...(options.resolve === true ? lookup : {}),
        type: z.literal(problemType(kind)),
        title: z.literal(title),
        status: z.literal(status),
        detail: z.string(),
        instance: z.optional(z.string()),
      }),
      { id: `${options.resolve === true ? 'ResolveProblem' : 'Problem'}-${kind}` },
    );
    schemas.set(key, schema);
  }
  return schema;
}

// One schema per kind, so the document names each once (components) and refers to it.
const schemas = new Map<string, z.ZodMiniObject>();

/** Every kind answered with `status`. */
export const kindsWithStatus = (status: number): ProblemKind[] =>
  PROBLEM_KINDS.filter((k) => PROBLEMS[k].status === status);
