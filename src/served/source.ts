import type * as z from '../nix/zod.js';
import { firstIssue } from '../protocol/issues.js';

/**
 * How the checks of what a service serves read it: GET a path from the service's root
 * (`/registries/NAME/versions/3`). The command passes its HTTP client, whose errors say
 * what went wrong in its own words; a page passes `fetchSource(fetch)`, same-origin.
 */

export interface RawAnswer {
  readonly status: number;
  readonly bytes: Uint8Array;
}

export interface ServedSource<A extends RawAnswer = RawAnswer> {
  /** A JSON answer read through the API's schema for it (src/api/answers.ts); anything else throws. */
  getJson<S extends z.ZodMiniType>(path: string, schema: S): Promise<z.infer<S>>;
  /** An answer's text; any answer but 2xx throws. */
  get(path: string): Promise<{ readonly text: string }>;
  /** An answer's exact bytes, whatever its status; only a service that cannot be reached throws. */
  raw(path: string): Promise<A>;
  /** The error for an answer `raw` gave that the route does not give (a status it does not answer). */
  refusal(path: string, answer: A): Error;
}

export type ServedErrorKind =
  /** An answer of a status the route does not give. */
  | 'refused'
  /** A JSON route answered something else. */
  | 'not-json'
  /** A JSON answer in a form the API does not describe. */
  | 'unknown-form'
  /** A version to check from that is past the head. */
  | 'past-head'
  /** A log key was given, but the service keeps no log. */
  | 'no-log'
  /** The key the service gives for its log is not a verifier key. */
  | 'bad-log-key'
  /** An answer that did not arrive, whole, within the time allowed. */
  | 'timeout'
  /** A request the network refused or the service dropped: no answer, or not all of it. */
  | 'unreachable';

/** Why what a service serves could not be checked at all (as opposed to failing a check). */
export class ServedError extends Error {
  override readonly name = 'ServedError';
  constructor(
    readonly kind: ServedErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface FetchedAnswer extends RawAnswer {
  readonly response: Response;
}

const decoder = new TextDecoder();

/** A problem+json answer's `title: detail`, else the status. */
function refusalLine(path: string, answer: FetchedAnswer): string {
  try {
    const problem = JSON.parse(decoder.decode(answer.bytes)) as { title?: unknown; detail?: unknown };
    if (typeof problem.title === 'string' && typeof problem.detail === 'string') {
      return `GET ${path} answered ${answer.status}: ${problem.title}: ${problem.detail}`;
    }
  } catch {
    // Not a problem+json: the status says it.
  }
  return `GET ${path} answered ${answer.status}`;
}

/** How long one answer may take, headers and body: what `flake-registry` allows (scripts/cli/client.ts). */
export const ANSWER_TIMEOUT_MS = 30_000;

/**
 * A source over a fetch of paths (a browser's own `fetch`, whose relative paths stay on
 * the page's origin, or a test's fake one). Each answer must arrive whole within
 * `timeoutMs`, or the request is aborted and the check fails with `timeout`: a stalled
 * request never leaves the check waiting for good.
 */
export function fetchSource(
  fetchPath: (path: string, signal: AbortSignal) => Promise<Response>,
  timeoutMs = ANSWER_TIMEOUT_MS,
): ServedSource<FetchedAnswer> {
  const raw = async (path: string): Promise<FetchedAnswer> => {
    const controller = new AbortController();
    let expire: (error: ServedError) => void = () => undefined;
    // Raced as well as passed on: a fetch that ignores its signal still cannot hold the check up.
    const expired = new Promise<never>((_, reject) => (expire = reject));
    const timer = setTimeout(() => {
      const error = new ServedError('timeout', `GET ${path} did not answer within ${timeoutMs / 1000} s`);
      controller.abort(error);
      expire(error);
    }, timeoutMs);
    try {
      return await Promise.race([
        (async () => {
          try {
            const response = await fetchPath(path, controller.signal);
            return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()), response };
          } catch (error) {
            if (error instanceof ServedError) throw error;
            // A fetch says no more than "Failed to fetch" (a closed connection, a refused one, a
            // network gone): the request it was is what a person can act on.
            throw new ServedError(
              'unreachable',
              `GET ${path} got no answer: the connection failed or was closed (${error instanceof Error ? error.message : String(error)})`,
            );
          }
        })(),
        expired,
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  const refusal = (path: string, answer: FetchedAnswer): Error => new ServedError('refused', refusalLine(path, answer));
  const ok = async (path: string): Promise<FetchedAnswer> => {
    const answer = await raw(path);
    if (answer.status < 200 || answer.status > 299) throw refusal(path, answer);
    return answer;
  };
  return {
    raw,
    refusal,
    get: async (path) => ({ text: decoder.decode((await ok(path)).bytes) }),
    getJson: async <S extends z.ZodMiniType>(path: string, schema: S): Promise<z.infer<S>> => {
      const text = decoder.decode((await ok(path)).bytes);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new ServedError('not-json', `GET ${path} answered with something that is not JSON`);
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        throw new ServedError(
          'unknown-form',
          `GET ${path} answered in a form the service does not give (at ${firstIssue(parsed.error.issues)})`,
        );
      }
      return parsed.data;
    },
  };
}
