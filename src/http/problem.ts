import type { NixError, NixErrorKind } from '../nix/errors.js';

/**
 * Every error the service answers, as RFC 9457 problem details. `type` is stable
 * per kind so clients can branch on it; `detail` carries Nix's own error text
 * where Nix has one.
 */
const PROBLEMS = {
  'invalid-ref': { status: 400, title: 'Invalid flake reference' },
  'invalid-request': { status: 400, title: 'Invalid request' },
  'invalid-json': { status: 400, title: 'Body is not JSON' },
  'invalid-proposal': { status: 400, title: 'Invalid proposal' },
  'wrong-registry': { status: 400, title: 'Proposal for another registry' },
  'malformed-signature': { status: 400, title: 'Malformed signature' },
  'duplicate-signer': { status: 400, title: 'One key signed twice' },
  'untrusted-key': { status: 403, title: 'Key not trusted' },
  'bad-signature': { status: 403, title: 'Signature does not verify' },
  'unknown-proposal': { status: 404, title: 'Unknown proposal' },
  conflict: { status: 409, title: 'Conflicting change' },
  'not-open': { status: 409, title: 'Proposal not open' },
  'payload-too-large': { status: 413, title: 'Body too large' },
  'uri-too-long': { status: 414, title: 'URL too long' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  expired: { status: 422, title: 'Proposal expired' },
  'not-yet-valid': { status: 422, title: 'Proposal dated in the future' },
  'unknown-base': { status: 422, title: 'Unknown base version' },
  'invalid-change': { status: 422, title: 'Change cannot be applied' },
  'lint-failed': { status: 422, title: 'Change fails the registry checks' },
  'no-change': { status: 422, title: 'Proposal changes nothing' },
  'invalid-policy': { status: 422, title: 'Invalid policy' },
  'not-found': { status: 404, title: 'Flake not found in the registries' },
  'unknown-registry': { status: 404, title: 'Unknown registry' },
  'unknown-version': { status: 404, title: 'Unknown registry version' },
  'no-route': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'precondition-failed': { status: 412, title: 'Precondition failed' },
  cycle: { status: 422, title: 'Cycle in the flake registries' },
  override: { status: 422, title: 'Override not applicable' },
  'invalid-registry': { status: 500, title: 'Invalid registry file' },
  'registry-misconfigured': { status: 500, title: 'Registry misconfigured' },
  'storage-unavailable': { status: 503, title: 'Storage temporarily unavailable' },
  internal: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemKind = keyof typeof PROBLEMS;

export const problemType = (kind: ProblemKind): string => `urn:flake-registry:problem:${kind}`;

export class Problem extends Error {
  override readonly name = 'Problem';
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }

  get status(): number {
    return PROBLEMS[this.kind].status;
  }

  /** The same problem with more members. */
  with(extensions: Readonly<Record<string, unknown>>): Problem {
    return new Problem(this.kind, this.detail, { ...this.extensions, ...extensions }, this.headers);
  }

  static fromNix(error: NixError, extensions: Readonly<Record<string, unknown>> = {}): Problem {
    return new Problem(NIX_KINDS[error.kind], error.message, extensions);
  }
}

const NIX_KINDS: Record<NixErrorKind, ProblemKind> = {
  'invalid-ref': 'invalid-ref',
  'invalid-registry': 'invalid-registry',
  'not-found': 'not-found',
  cycle: 'cycle',
  override: 'override',
};

/** The problem+json document of `problem`. */
export function problemBody(problem: Problem, instance?: string): string {
  const { status, title } = PROBLEMS[problem.kind];
  // Extensions never replace the standard members (RFC 9457 §3.1).
  const body = {
    ...problem.extensions,
    type: problemType(problem.kind),
    title,
    status,
    detail: problem.detail,
    ...(instance === undefined ? {} : { instance }),
  };
  return JSON.stringify(body, null, 2);
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problems are never cached: the next attempt may well succeed. */
export function problemResponse(
  problem: Problem,
  instance?: string,
  headers: Readonly<Record<string, string>> = {},
): Response {
  return new Response(problemBody(problem, instance), {
    status: problem.status,
    headers: {
      'Content-Type': PROBLEM_CONTENT_TYPE,
      'Cache-Control': 'no-store',
      ...problem.headers,
      ...headers,
    },
  });
}
