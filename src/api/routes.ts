import * as z from '../nix/zod.js';
import { registryFileSchema } from '../nix/registry-schema.js';
import { REGISTRY_NAME, SHA256_HEX } from '../protocol/names.js';
import { approvalSchema, submissionSchema } from '../protocol/proposal.js';
import {
  auditSchema,
  healthSchema,
  policyAnswerSchema,
  proposalListSchema,
  proposalStatusSchema,
  proposalAuditSchema,
  proposalViewSchema,
  registryListSchema,
  resolutionSchema,
  versionPageSchema,
  versionRecordAnswer,
} from './answers.js';
import { EXAMPLES } from './examples.js';
import type { ProblemKind } from './problems.js';

/**
 * Every operation of the HTTP API: its path and method, parameters, body, and
 * every answer with its status. The one table the OpenAPI document
 * (scripts/openapi.ts) and the contract tests are made from; the Worker's 405s
 * read `Allow` from the routes it registers (src/http/allow.ts), and a test holds
 * the two to the same paths and methods.
 * Every GET is answered to HEAD too, with the same headers and no body.
 */

export interface Answer {
  readonly description: string;
  /** An `application/json` body. */
  readonly json?: z.ZodMiniType;
  /** A body of another type: text (a signed note, a key) or bytes (a log tile). */
  readonly other?: { readonly contentType: string; readonly binary?: true; readonly example?: string };
  /** Problem kinds answered with this status (`application/problem+json`). */
  readonly problems?: readonly ProblemKind[];
  /** Validators and cache headers sent with it. */
  readonly headers?: readonly ('ETag' | 'Last-Modified' | 'Cache-Control' | 'X-Registry' | 'Location')[];
  readonly example?: unknown;
}

export interface Operation {
  readonly id: string;
  readonly method: 'get' | 'post';
  /** OpenAPI form: `/registries/{name}/versions/{n}`. */
  readonly path: string;
  readonly summary: string;
  readonly description: string;
  readonly tag: 'Registry files' | 'Resolve' | 'History' | 'Proposals' | 'Transparency log' | 'Service';
  readonly params?: { readonly path?: z.ZodMiniObject; readonly query?: z.ZodMiniObject };
  readonly body?: z.ZodMiniType;
  readonly bodyExample?: unknown;
  readonly responses: Readonly<Record<number, Answer>>;
  /** `/resolve`: every error carries the ref as given and the lookup's context. */
  readonly resolveProblems?: true;
}

const name = z.withMeta(z.string().check(z.regex(REGISTRY_NAME)), {
  description: 'A hosted registry, e.g. `global`',
  example: 'global',
});
const version = z.withMeta(z.string().check(z.regex(/^[1-9][0-9]{0,9}$/)), {
  description: 'A version number, from 1',
  example: '3',
});
const id = z.withMeta(z.string().check(z.regex(SHA256_HEX)), {
  description: "A proposal's id: the SHA-256 of its canonical bytes",
  example: EXAMPLES.proposalView.id,
});
const decimal = (description: string, example: string) =>
  z.withMeta(z.string().check(z.regex(/^[1-9][0-9]{0,9}$/)), { description, example });

const FILE_HEADERS = ['ETag', 'Last-Modified', 'Cache-Control', 'X-Registry'] as const;
/** Before any route: a deployment with local-development keys set, or a bug. */
const SERVICE_ERROR: Answer = {
  description: 'The deployment is misconfigured (DEV_TRUSTED_KEYS on a public host), or a bug',
  problems: ['registry-misconfigured', 'internal'],
};
const STORE_ERRORS = {
  500: {
    description: 'The deployed embedded registry can never be published, or a bug',
    problems: ['registry-misconfigured', 'invalid-registry', 'internal'],
  },
  503: { description: 'Storage did not answer; retry (`Retry-After`)', problems: ['storage-unavailable'] },
} as const satisfies Record<number, Answer>;
const QUERY_ERRORS = {
  400: { description: 'An unknown, repeated or malformed parameter', problems: ['invalid-request'] },
  414: { description: 'A URL over 16 KiB', problems: ['uri-too-long'] },
} as const satisfies Record<number, Answer>;
const CONDITIONAL = {
  304: {
    description: 'Not modified: `If-None-Match` matched (weak comparison), or `If-Modified-Since`',
    headers: FILE_HEADERS,
  },
  412: { description: '`If-Match` or `If-Unmodified-Since` failed', problems: ['precondition-failed'] },
} as const satisfies Record<number, Answer>;
const WRITE_ERRORS = {
  403: {
    description:
      'A signature by a key neither the policy in force nor a proposed one lists, or one that does not verify (either refuses the whole request), or no signature by a key of the policy in force',
    problems: ['untrusted-key', 'bad-signature'],
  },
  413: { description: 'A body over 1 MiB', problems: ['payload-too-large'] },
  415: {
    description: 'A body that is not `application/json` in UTF-8, or is compressed',
    problems: ['unsupported-media-type'],
  },
} as const satisfies Record<number, Answer>;

const registryFileAnswer = z.withMeta(registryFileSchema, { id: 'RegistryFile' });
const registryFile = (description: string, example: unknown): Answer => ({
  description,
  json: registryFileAnswer,
  headers: FILE_HEADERS,
  example,
});

const AUDIT_QUERY = z.strictObject({
  registry: z.optional(
    z.withMeta(z.string(), { description: 'Registries to search, as `/resolve` takes them', example: 'global' }),
  ),
  'override-flake': z.optional(
    z.withMeta(z.array(z.string()), {
      description: "Nix's `--override-flake ORIGINAL RESOLVED` pairs, as `/resolve` takes them",
    }),
  ),
});
/** What both audits answer for a bad request or body. */
const AUDIT_ERRORS = {
  400: { description: 'A body that is not JSON, or a bad parameter', problems: ['invalid-json', 'invalid-request'] },
} as const satisfies Record<number, Answer>;
const AUDIT_BODY_ERRORS = {
  413: { description: 'A body over 1 MiB', problems: ['payload-too-large'] },
  414: QUERY_ERRORS[414],
  415: WRITE_ERRORS[415],
  422: { description: 'Not a lock file or manifest Nix reads: why, with its code', problems: ['invalid-document'] },
  ...STORE_ERRORS,
} as const satisfies Record<number, Answer>;
const AUDIT_BODY = z.withMeta(z.record(z.string(), z.unknown()), {
  id: 'AuditDocument',
  description: "A `flake.lock` or a profile's `manifest.json`, as Nix writes it",
});

export const OPERATIONS: readonly Operation[] = [
  {
    id: 'health',
    method: 'get',
    path: '/healthz',
    tag: 'Service',
    summary: 'Liveness',
    description: 'Answers without touching storage: whether the Worker runs.',
    responses: {
      200: { description: 'The Worker runs', json: healthSchema, example: { ok: true } },
      ...QUERY_ERRORS,
      500: SERVICE_ERROR,
    },
  },
  {
    id: 'openapi',
    method: 'get',
    path: '/openapi.json',
    tag: 'Service',
    summary: 'This document',
    description: 'The OpenAPI 3.1 description of the API, generated from the schemas the service itself uses.',
    responses: {
      200: {
        description: 'The OpenAPI document',
        json: z.looseObject({ openapi: z.literal('3.1.0') }),
        headers: ['ETag', 'Cache-Control'],
        example: { openapi: '3.1.0', info: { title: 'flake-registry-service', version: '1' } },
      },
      ...CONDITIONAL,
      ...QUERY_ERRORS,
      500: SERVICE_ERROR,
    },
  },
  {
    id: 'globalRegistryFile',
    method: 'get',
    path: '/flake-registry.json',
    tag: 'Registry files',
    summary: 'The latest version of the default registry, `global`',
    description:
      "The URL for Nix's `flake-registry` setting. A registry file exactly as `nix registry add` writes it, fresh for `tarball-ttl` (`max-age`), with a strong ETag Nix revalidates with.",
    responses: {
      200: registryFile('The latest version of `global`', EXAMPLES.registryFile),
      ...CONDITIONAL,
      ...QUERY_ERRORS,
      404: { description: 'No registry `global` is hosted', problems: ['unknown-registry'] },
      ...STORE_ERRORS,
    },
  },
  {
    id: 'listRegistries',
    method: 'get',
    path: '/registries',
    tag: 'Registry files',
    summary: 'The hosted registries',
    description:
      'Each registry with its latest version, entry count and file hash; one that cannot be published is listed with its error.',
    responses: {
      200: {
        description: 'The registries',
        json: registryListSchema,
        headers: ['Cache-Control'],
        example: EXAMPLES.registryList,
      },
      ...QUERY_ERRORS,
      ...STORE_ERRORS,
    },
  },
  {
    id: 'registryFile',
    method: 'get',
    path: '/registries/{name}/flake-registry.json',
    tag: 'Registry files',
    summary: 'The latest version of a registry',
    description: 'As `/flake-registry.json`, for any hosted registry.',
    params: { path: z.strictObject({ name }) },
    responses: {
      200: registryFile('The latest version', EXAMPLES.registryFile),
      ...CONDITIONAL,
      ...QUERY_ERRORS,
      404: { description: 'No such registry', problems: ['unknown-registry'] },
      ...STORE_ERRORS,
    },
  },
  {
    id: 'listVersions',
    method: 'get',
    path: '/registries/{name}/versions',
    tag: 'History',
    summary: "A registry's history, newest first",
    description: 'Version records, a page at a time; `next` links to the following (older) page.',
    params: {
      path: z.strictObject({ name }),
      query: z.strictObject({
        limit: z.optional(decimal('Versions per page, 1 to 100 (default 20)', '20')),
        before: z.optional(decimal('Only versions below this one', '10')),
      }),
    },
    responses: {
      200: {
        description: 'A page of records',
        json: versionPageSchema,
        headers: ['Cache-Control'],
        example: EXAMPLES.versionPage,
      },
      ...QUERY_ERRORS,
      404: { description: 'No such registry', problems: ['unknown-registry'] },
      ...STORE_ERRORS,
    },
  },
  {
    id: 'versionRecord',
    method: 'get',
    path: '/registries/{name}/versions/{n}',
    tag: 'History',
    summary: "One version's record",
    description:
      "The record's canonical JSON (RFC 8785): the hashes of its file, its parent's record and the policy in force, and the proposal and signatures that made it. Immutable.",
    params: { path: z.strictObject({ name, n: version }) },
    responses: {
      200: {
        description: 'The record',
        json: versionRecordAnswer,
        headers: FILE_HEADERS,
        example: EXAMPLES.versionRecord,
      },
      ...CONDITIONAL,
      ...QUERY_ERRORS,
      404: { description: 'No such registry or version', problems: ['unknown-registry', 'unknown-version'] },
      ...STORE_ERRORS,
    },
  },
  {
    id: 'versionFile',
    method: 'get',
    path: '/registries/{name}/versions/{n}/flake-registry.json',
    tag: 'Registry files',
    summary: "One version's registry file",
    description:
      'Byte-identical forever (`immutable`): point `flake-registry` here to freeze what every indirect ref means.',
    params: { path: z.strictObject({ name, n: version }) },
    responses: {
      200: registryFile('The file of that version', EXAMPLES.registryFile),
      ...CONDITIONAL,
      ...QUERY_ERRORS,
      404: { description: 'No such registry or version', problems: ['unknown-registry', 'unknown-version'] },
      ...STORE_ERRORS,
    },
  },
  {
    id: 'resolve',
    method: 'get',
    path: '/resolve',
    tag: 'Resolve',
    summary: 'Resolve a flake reference as Nix would',
    description:
      "By Nix's own lookup rules, through the registries named (in order, each at its latest or a pinned version), with every step taken. `+` in `ref` is literal; encode `&` inside a ref as `%26`.",
    params: {
      query: z.strictObject({
        ref: z.withMeta(z.string(), { description: 'A flake reference', example: 'nixpkgs/nixos-25.05' }),
        registry: z.optional(
          z.withMeta(z.string(), {
            description: 'Registries to search, in order: `NAME` or `NAME@VERSION`, comma-separated (default `global`)',
            example: 'team,global@3',
          }),
        ),
        'override-flake': z.optional(
          z.withMeta(z.array(z.string()), {
            description:
              "Nix's `--override-flake ORIGINAL RESOLVED`, as two values in turn, repeated in order (`override-flake=nixpkgs&override-flake=github:me/nixpkgs`): searched before every registry, first match wins, with Nix's semantics. Their steps name the registry `--override-flake`, version 0, and the pair's place (from 0) as index",
            example: ['nixpkgs', 'github:NixOS/nixpkgs/nixos-25.05'],
          }),
        ),
      }),
    },
    resolveProblems: true,
    responses: {
      200: {
        description: 'What Nix resolves it to',
        json: resolutionSchema,
        headers: FILE_HEADERS,
        example: EXAMPLES.resolution,
      },
      ...CONDITIONAL,
      400: {
        description: 'A ref Nix does not parse, or a bad parameter',
        problems: ['invalid-ref', 'invalid-request'],
      },
      404: {
        description: 'Not found in the registries, or an unknown registry or version',
        problems: ['not-found', 'unknown-registry', 'unknown-version'],
      },
      414: QUERY_ERRORS[414],
      422: { description: 'A cycle, or a ref or rev the target cannot take', problems: ['cycle', 'override'] },
      ...STORE_ERRORS,
    },
  },
  {
    id: 'audit',
    method: 'post',
    path: '/audit',
    tag: 'Resolve',
    summary: 'Audit a flake.lock or a profile manifest against the registries',
    description:
      "The body is a `flake.lock` (versions 5 to 7) or a profile's `manifest.json` (versions 1 to 3), recognised by its content. For every lock input and profile element whose original ref goes through the registries: what it is locked to, what the registries (chosen as `/resolve` chooses them, overrides included) resolve it to now with the steps, and a status (docs/audit.md): `same-source`, `redirected` (with the attributes that change), `pinned`, `unverifiable`, `not-found`, `error`; `direct` for inputs that never go through the registries, `not-from-flake` for elements installed from store paths. Nothing is stored.",
    params: { query: AUDIT_QUERY },
    body: AUDIT_BODY,
    bodyExample: EXAMPLES.auditLock,
    responses: {
      200: { description: 'The audit', json: auditSchema, example: EXAMPLES.audit },
      ...AUDIT_ERRORS,
      404: { description: 'An unknown registry or version', problems: ['unknown-registry', 'unknown-version'] },
      ...AUDIT_BODY_ERRORS,
    },
  },
  {
    id: 'auditProposal',
    method: 'post',
    path: '/registries/{name}/proposals/{id}/audit',
    tag: 'Proposals',
    summary: 'What a proposal would change in a flake.lock or a profile manifest',
    description:
      'The body as for `POST /audit`. Audited twice: against the registry at its head, and with the proposal merged onto it (a merged proposal: the versions before and after it); `changed` lists the rows whose status or target moves. `registry=` must name this registry at its latest (default: this registry alone). POST, not GET: a GET request cannot carry a body in fetch or in browsers.',
    params: { path: z.strictObject({ name, id }), query: AUDIT_QUERY },
    body: AUDIT_BODY,
    bodyExample: EXAMPLES.auditLock,
    responses: {
      200: {
        description: 'Both audits and what moves',
        json: proposalAuditSchema,
        example: {
          registry: 'global',
          proposal: EXAMPLES.proposalView.id,
          status: 'open',
          from: 1,
          to: 2,
          before: EXAMPLES.audit,
          after: EXAMPLES.audit,
          changed: [],
          unchanged: 1,
        },
      },
      ...AUDIT_ERRORS,
      404: {
        description: 'An unknown registry, version or proposal',
        problems: ['unknown-registry', 'unknown-version', 'unknown-proposal'],
      },
      409: { description: 'The proposal no longer merges onto the head', problems: ['conflict'] },
      ...AUDIT_BODY_ERRORS,
    },
  },
  {
    id: 'submitProposal',
    method: 'post',
    path: '/registries/{name}/proposals',
    tag: 'Proposals',
    summary: 'Submit a signed proposal',
    description:
      'Reviewed (lint, resolution impact) and stored when a key the policy in force trusts signed it; merged at once when the signatures meet the threshold. The same proposal again answers 200, its new signatures counted as approvals.',
    params: { path: z.strictObject({ name }) },
    body: submissionSchema,
    bodyExample: EXAMPLES.submission,
    responses: {
      200: {
        description: 'Known already; its new signatures were counted',
        json: proposalViewSchema,
        headers: ['Location'],
        example: EXAMPLES.proposalView,
      },
      201: {
        description: 'Stored (and merged, if the threshold is met)',
        json: proposalViewSchema,
        headers: ['Location'],
        example: EXAMPLES.proposalView,
      },
      400: {
        description: 'A body that is not a valid submission',
        problems: [
          'invalid-json',
          'invalid-proposal',
          'wrong-registry',
          'malformed-signature',
          'duplicate-signer',
          'invalid-request',
        ],
      },
      ...WRITE_ERRORS,
      404: { description: 'No such registry', problems: ['unknown-registry'] },
      409: { description: 'It conflicts with a newer version, or is closed', problems: ['conflict', 'not-open'] },
      414: QUERY_ERRORS[414],
      422: {
        description: 'It cannot be applied or accepted',
        problems: [
          'expired',
          'not-yet-valid',
          'unknown-base',
          'invalid-change',
          'lint-failed',
          'invalid-policy',
          'no-change',
        ],
      },
      ...STORE_ERRORS,
    },
  },
  {
    id: 'listProposals',
    method: 'get',
    path: '/registries/{name}/proposals',
    tag: 'Proposals',
    summary: 'Proposals, newest first, as summaries',
    description: 'Open proposals past their expiry have left storage.',
    params: {
      path: z.strictObject({ name }),
      query: z.strictObject({
        status: z.optional(z.withMeta(proposalStatusSchema, { description: 'Only proposals with this status' })),
        limit: z.optional(decimal('At most this many, 1 to 100 (default 50)', '50')),
      }),
    },
    responses: {
      200: {
        description: 'Summaries',
        json: proposalListSchema,
        headers: ['Cache-Control'],
        example: EXAMPLES.proposalList,
      },
      ...QUERY_ERRORS,
      404: { description: 'No such registry', problems: ['unknown-registry'] },
      ...STORE_ERRORS,
    },
  },
  {
    id: 'getProposal',
    method: 'get',
    path: '/registries/{name}/proposals/{id}',
    tag: 'Proposals',
    summary: 'One proposal with its review',
    description: 'Its status, changes, lint, resolution impact and signatures counted against the threshold(s).',
    params: { path: z.strictObject({ name, id }) },
    responses: {
      200: {
        description: 'The proposal',
        json: proposalViewSchema,
        headers: ['Cache-Control'],
        example: EXAMPLES.proposalView,
      },
      ...QUERY_ERRORS,
      404: { description: 'No such registry or proposal', problems: ['unknown-registry', 'unknown-proposal'] },
      ...STORE_ERRORS,
    },
  },
  {
    id: 'approveProposal',
    method: 'post',
    path: '/registries/{name}/proposals/{id}/approvals',
    tag: 'Proposals',
    summary: "Add one maintainer's signature",
    description:
      'Counted while the proposal is open; it merges when the threshold is met. A signature it already carries answers 200 once closed; any other, 409.',
    params: { path: z.strictObject({ name, id }) },
    body: approvalSchema,
    bodyExample: { signature: EXAMPLES.submission.signatures[0] },
    responses: {
      200: {
        description: 'The proposal after the signature',
        json: proposalViewSchema,
        headers: ['Location'],
        example: EXAMPLES.proposalView,
      },
      400: {
        description: 'A body that is not an approval',
        problems: ['invalid-json', 'invalid-proposal', 'malformed-signature', 'invalid-request'],
      },
      ...WRITE_ERRORS,
      404: { description: 'No such registry or proposal', problems: ['unknown-registry', 'unknown-proposal'] },
      409: { description: 'The proposal is closed', problems: ['not-open'] },
      414: QUERY_ERRORS[414],
      422: { description: 'The proposal expired', problems: ['expired'] },
      ...STORE_ERRORS,
    },
  },
  {
    id: 'getPolicy',
    method: 'get',
    path: '/registries/{name}/policy',
    tag: 'Proposals',
    summary: 'The trust policy in force',
    description: 'The keys and threshold the next version must be signed under, and the version that set them.',
    params: { path: z.strictObject({ name }) },
    responses: {
      200: {
        description: 'The policy',
        json: policyAnswerSchema,
        headers: ['Cache-Control'],
        example: EXAMPLES.policy,
      },
      ...QUERY_ERRORS,
      404: { description: 'No such registry', problems: ['unknown-registry'] },
      ...STORE_ERRORS,
    },
  },
  {
    id: 'logCheckpoint',
    method: 'get',
    path: '/registries/{name}/log/checkpoint',
    tag: 'Transparency log',
    summary: "The log's signed checkpoint",
    description:
      "The registry log's head as a C2SP tlog-checkpoint (origin, size, root), a C2SP signed note signed by the log key and cosigned by it with the time (tlog-cosignature), refreshed hourly so that clients can refuse a stale view. See docs/log.md.",
    params: { path: z.strictObject({ name }) },
    responses: {
      200: {
        description: 'The checkpoint note',
        other: { contentType: 'text/plain', example: EXAMPLES.checkpoint },
        headers: ['Cache-Control'],
      },
      ...QUERY_ERRORS,
      404: {
        description: 'No such registry, or no log key is configured',
        problems: ['unknown-registry', 'no-log-key'],
      },
      ...STORE_ERRORS,
    },
  },
  {
    id: 'logKey',
    method: 'get',
    path: '/registries/{name}/log/key',
    tag: 'Transparency log',
    summary: "The log's verifier key",
    description:
      'The C2SP vkey the checkpoint is signed with, for a first pin (a pin is best given out of band: this trusts the server the first time).',
    params: { path: z.strictObject({ name }) },
    responses: {
      200: {
        description: 'The vkey and a newline',
        other: { contentType: 'text/plain', example: `${EXAMPLES.vkey}\n` },
        headers: ['Cache-Control'],
      },
      ...QUERY_ERRORS,
      404: {
        description: 'No such registry, or no log key is configured',
        problems: ['unknown-registry', 'no-log-key'],
      },
      ...STORE_ERRORS,
    },
  },
  {
    id: 'logTile',
    method: 'get',
    path: '/registries/{name}/log/tile/{tile}',
    tag: 'Transparency log',
    summary: 'A log tile or entry bundle',
    description:
      'C2SP tlog-tiles: `tile/L/N[.p/W]` (hashes) or `tile/entries/N[.p/W]` (leaves). Immutable. `{tile}` spans several path segments.',
    params: {
      path: z.strictObject({
        name,
        tile: z.withMeta(z.string(), { description: 'The rest of a tlog-tiles path', example: '0/000.p/3' }),
      }),
    },
    responses: {
      200: {
        description: 'The tile',
        other: { contentType: 'application/octet-stream', binary: true },
        headers: ['Cache-Control'],
      },
      ...QUERY_ERRORS,
      404: {
        description: 'No such registry, or the log has no such tile',
        problems: ['unknown-registry', 'unknown-tile'],
      },
      ...STORE_ERRORS,
    },
  },
];

/**
 * A path of the table as a pattern over request paths: a parameter is one
 * segment, but `{tile}`, a tlog-tiles path, spans several (`0/x001/234.p/5`).
 */
const compiled = OPERATIONS.map((operation) => ({
  operation,
  pattern: new RegExp(
    `^${operation.path
      .replace(/\./g, '\\.')
      .replace('{tile}', '.+')
      .replace(/\{[a-z]+\}/g, '[^/]+')}$`,
  ),
}));

/** The operations at a request path, whatever their method. */
export function operationsAt(path: string): Operation[] {
  return compiled.filter((c) => c.pattern.test(path)).map((c) => c.operation);
}

/** The operation answering `method` at `path` (HEAD is answered as GET). */
export function operationFor(method: string, path: string): Operation | undefined {
  const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
  return operationsAt(path).find((o) => o.method === m);
}
