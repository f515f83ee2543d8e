import type * as z from '../../src/nix/zod.js';
import { PROBLEM_KINDS, problemSchema, type ProblemKind } from '../../src/api/problems.js';
import { firstIssue } from '../../src/protocol/issues.js';
import { CliError, UnreachableError } from './errors.js';

/**
 * The service's HTTP API as the CLI uses it. Every failure becomes a CliError
 * of one line: a problem+json answer as `title: detail`, an unreachable
 * server named with its URL.
 */

export interface Fetched {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
}

/** How long each request may take, its body included. */
export const TIMEOUT_MS = 30_000;

export class Client {
  readonly #base: string;
  readonly #fetch: typeof fetch;

  constructor(base: string, fetchFn: typeof fetch = globalThis.fetch) {
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new CliError(`'${base}' is not a URL (give the service as --url http://HOST:PORT)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new CliError(`'${base}' is not an http or https URL`);
    }
    if (base !== base.trim()) throw new CliError(`'${base}' has spaces around it; give the URL alone`);
    if (url.search !== '' || url.hash !== '' || base.includes('?') || base.includes('#')) {
      throw new CliError(`'${base}' has a query or fragment; give the service as --url http://HOST:PORT[/PATH]`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new CliError(`'${base}' holds a user name or password; the service takes none in its URL`);
    }
    this.#base = base.replace(/\/+$/, '');
    this.#fetch = fetchFn;
  }

  get base(): string {
    return this.#base;
  }

  /** GET a path; any answer but 2xx is an error. */
  async get(path: string): Promise<Fetched> {
    return this.#request('GET', path);
  }

  /**
   * GET a path's exact bytes, whatever the status: for the routes whose answers are bytes
   * (log tiles) or that the caller reads by status. Only an unreachable server throws.
   */
  async raw(
    path: string,
    limit: number = MAX_ANSWER_BYTES,
  ): Promise<{ readonly status: number; readonly bytes: Uint8Array; readonly res: Response }> {
    const url = `${this.#base}${path}`;
    try {
      const res = await this.#fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      return { status: res.status, bytes: await readCapped(res, url, limit), res };
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new UnreachableError(`cannot reach the service at ${this.#base}: ${networkReason(error)}`, {
        cause: error,
      });
    }
  }

  /** GET a JSON answer, read through the API's schema for it (src/api/answers.ts). */
  async getJson<S extends z.ZodMiniType>(path: string, schema: S): Promise<z.infer<S>> {
    return this.#read(await this.get(path), 'GET', path, schema);
  }

  async postJson<S extends z.ZodMiniType>(
    path: string,
    body: unknown,
    schema: S,
  ): Promise<{ status: number; body: z.infer<S> }> {
    return this.postJsonText(path, JSON.stringify(body), schema);
  }

  /** POST a JSON text as it is (a user's file, checked already): the service sees the bytes the user has. */
  async postJsonText<S extends z.ZodMiniType>(
    path: string,
    text: string,
    schema: S,
  ): Promise<{ status: number; body: z.infer<S> }> {
    const res = await this.#request('POST', path, text);
    return { status: res.status, body: this.#read(res, 'POST', path, schema) };
  }

  /** An answer that is not what the API describes means another server, or another version of this one. */
  #read<S extends z.ZodMiniType>(res: Fetched, method: string, path: string, schema: S): z.infer<S> {
    const route = `${method} ${path.split('?')[0] ?? path}`;
    let json: unknown;
    try {
      json = JSON.parse(res.text);
    } catch {
      throw new CliError(
        `${this.#base} answered ${route} with something that is not JSON: not a flake-registry-service, or another version (is --url right?)`,
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const where = ` (at ${firstIssue(parsed.error.issues)})`;
      throw new CliError(
        `${this.#base} answered ${route} in a form this command does not know${where}: not a flake-registry-service, or another version`,
      );
    }
    return parsed.data;
  }

  async #request(method: string, path: string, body?: string): Promise<Fetched> {
    const url = `${this.#base}${path}`;
    let res: Response;
    let text: string;
    try {
      res = await this.#fetch(url, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      text = new TextDecoder().decode(await readCapped(res, url));
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new UnreachableError(`cannot reach the service at ${this.#base}: ${networkReason(error)}`, {
        cause: error,
      });
    }
    if (res.status >= 200 && res.status < 300) return { status: res.status, text, headers: res.headers };
    throw new CliError(problemLine(res, text, `${method} ${url}`));
  }
}

/**
 * The most this command reads of one answer. The largest the service sends is a version's file
 * (registries of 100,000 entries are about 11 MB); a server that sends more is not the service.
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

const sizeText = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} bytes`;

/** A body, refused once it passes `limit` bytes (MAX_ANSWER_BYTES), without reading the rest. */
async function readCapped(res: Response, url: string, limit = MAX_ANSWER_BYTES): Promise<Uint8Array> {
  const declared = Number(res.headers.get('Content-Length') ?? '0');
  const tooLarge = () =>
    new CliError(
      `${url} answered with more than ${sizeText(limit)}: not a flake-registry-service answer (is --url right?)`,
    );
  if (declared > limit) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** Why a fetch failed, as briefly as possible: `connection refused`, `timed out`. */
function networkReason(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running? `npm start` starts one)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return 'the connection closed before the answer was complete';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'the connection timed out (is it http, not https?)';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'the answer stopped coming';
  if (code !== undefined && /^(EPROTO|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code)) {
    return `TLS failed (${code}): is it https, and is its certificate valid?`;
  }
  if (code !== undefined) return code;
  return e.cause?.message ?? e.message ?? String(error);
}

/**
 * A refusal as one line: `title: detail` for a problem+json of the service's own kinds
 * (read through their schemas, src/api/problems.ts), else the route and status, saying that
 * the server is not the service: another server's words are never passed off as its.
 */
export function problemLine(res: Response, text: string, what: string): string {
  if ((res.headers.get('Content-Type') ?? '').includes('json')) {
    try {
      const problem = JSON.parse(text) as { title?: unknown; detail?: unknown; type?: unknown; removedBy?: unknown };
      const kind =
        typeof problem.type === 'string' ? problem.type.replace(/^urn:flake-registry:problem:/, '') : undefined;
      const known = kind !== undefined && (PROBLEM_KINDS as readonly string[]).includes(kind);
      const fits =
        known &&
        (problemSchema(kind as ProblemKind).safeParse(problem).success ||
          problemSchema(kind as ProblemKind, { resolve: true }).safeParse(problem).success);
      if (fits && typeof problem.title === 'string' && typeof problem.detail === 'string') {
        // A common cause on a local server: keys trusted after the registry was created. A key
        // the registry's policy once trusted and then dropped is another story: the detail says so.
        const local = /^https?:\/\/(127\.|localhost|\[::1\])/.test(res.url);
        const hint =
          local && problem.type === 'urn:flake-registry:problem:untrusted-key' && problem.removedBy === undefined
            ? ' (if the key was added with trust-local after the registry was created, it counts only after rm -rf .wrangler/state and a new npm start)'
            : '';
        return `${problem.title}: ${problem.detail}${hint}`;
      }
    } catch {
      // Not JSON after all: fall through.
    }
  }
  const status = `${res.status} ${res.statusText}`.trimEnd();
  if (res.status >= 400 && res.status < 600 && res.status !== 502 && res.status !== 503 && res.status !== 504) {
    return `${what} answered ${status}, not as flake-registry-service answers: not a flake-registry-service, or another version (is --url right?)`;
  }
  return `${what} answered ${status}`;
}

/** A path segment from user input (a registry name, a proposal id). */
export const seg = (text: string): string => encodeURIComponent(text);
