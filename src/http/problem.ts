import { PROBLEMS, problemType, PROBLEM_CONTENT_TYPE, type ProblemKind, type ProblemMembers } from '../api/problems.js';
import type { NixError, NixErrorKind } from '../nix/errors.js';

export { PROBLEM_CONTENT_TYPE, problemType, type ProblemKind } from '../api/problems.js';

/** An error answered as problem+json; its members are the ones src/api/problems.ts gives its kind. */
export class Problem<K extends ProblemKind = ProblemKind> extends Error {
  override readonly name = 'Problem';
  readonly extensions: Readonly<Record<string, unknown>>;
  constructor(
    readonly kind: K,
    readonly detail: string,
    extensions: ProblemMembers<K> = {} as ProblemMembers<K>,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.extensions = extensions as Readonly<Record<string, unknown>>;
  }

  get status(): number {
    return PROBLEMS[this.kind].status;
  }

  /**
   * The same problem with more members: what `/resolve` adds to every error
   * (its lookup context, src/api/problems.ts), whatever the kind.
   */
  with(extensions: Readonly<Record<string, unknown>>): Problem {
    return new Problem(this.kind, this.detail, { ...this.extensions, ...extensions } as never, this.headers);
  }

  static fromNix(error: NixError, extensions: Readonly<Record<string, unknown>> = {}): Problem {
    return new Problem(NIX_KINDS[error.kind], error.message).with(extensions);
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
