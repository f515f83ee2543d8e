import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * An HTTP proxy in front of a real server that a test turns hostile, path by path: it forwards
 * every request, records what the server answered, and answers instead what a rule says (a body
 * replaced, a byte flipped, an earlier answer replayed, a delay, a connection dropped mid-body,
 * a 500). What a client sees through it is what a compromised server, cache or network could
 * show; what it is told is the server's own answer unless a rule says otherwise.
 */

/** One answer as the client receives it: status, headers and the exact bytes. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export type Rule =
  /** Forwards the request, then answers `mutate(body)` with the server's status and headers. */
  | { readonly kind: 'mutate'; readonly mutate: (body: Buffer, path: string) => Buffer }
  /** Answers this body (and status, 200 by default) without asking the server. */
  | {
      readonly kind: 'replace';
      readonly body: Buffer | string;
      readonly status?: number;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** Answers exactly this earlier answer (see `recorded` and `snapshot`). */
  | { readonly kind: 'answer'; readonly answer: Answer }
  /** Waits, then forwards. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Sends the server's status, headers and its full Content-Length, then part of the body, then closes. */
  | { readonly kind: 'drop'; readonly fraction?: number }
  /** Answers this status (a problem+json body naming it) without asking the server. */
  | { readonly kind: 'status'; readonly status: number };

/** Which requests a rule applies to: a path with its query, a pattern over it, or a test. */
export type Match = string | RegExp | ((path: string) => boolean);

export interface HostileProxy {
  /** `http://127.0.0.1:PORT`: give it to the client as the server's URL. */
  readonly origin: string;
  /** Adds a rule; a later rule for the same request wins. Returns a function that removes it. */
  on(match: Match, rule: Rule): () => void;
  /** Removes every rule: the proxy forwards faithfully again. */
  reset(): void;
  /** The last answer the server gave for a path (with query), as it gave it. */
  recorded(path: string): Answer | undefined;
  /** Every path's last answer from the server, to replay later: "what the server said then". */
  snapshot(): ReadonlyMap<string, Answer>;
  /** Answers each path of `snapshot` with its recorded answer (other paths are forwarded). */
  replay(snapshot: ReadonlyMap<string, Answer>): () => void;
  /** The requests received since the last `clearLog`, as `METHOD path`. */
  readonly requests: readonly string[];
  clearLog(): void;
  /** Sends requests to another server from now on (a closed port: the server is gone). */
  retarget(upstream: string): void;
  close(): Promise<void>;
}

/** Headers that describe one connection or one encoding of the body, never forwarded as such. */
const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
]);

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function matches(match: Match, path: string): boolean {
  if (typeof match === 'string') return match === path;
  if (match instanceof RegExp) return match.test(path);
  return match(path);
}

/** Flips one byte of `body` (XOR with `mask`, 0x01 by default); a negative offset counts from the end. */
export function flipByte(body: Buffer, offset: number, mask = 0x01): Buffer {
  const at = offset < 0 ? body.length + offset : offset;
  if (at < 0 || at >= body.length) throw new RangeError(`offset ${offset} is outside a body of ${body.length} bytes`);
  const out = Buffer.from(body);
  out[at] = (out[at] ?? 0) ^ mask;
  return out;
}

/**
 * Replaces one character of a text body by another of the same alphabet, so that the result
 * still parses (a base64 character for another one, a digit for another digit): what changes is
 * what it says, not its form. `at` is a character index in the text; the character there must
 * be in `alphabet`.
 */
export function substituteChar(text: string, at: number, alphabet: string): string {
  const char = text[at];
  const index = char === undefined ? -1 : alphabet.indexOf(char);
  if (index < 0) throw new RangeError(`character ${at} of the text (${JSON.stringify(char)}) is not in the alphabet`);
  const other = alphabet[(index + 1) % alphabet.length] ?? '';
  return text.slice(0, at) + other + text.slice(at + 1);
}

export const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

interface Forwarded {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export async function startHostileProxy(upstream: string): Promise<HostileProxy> {
  let target = new URL(upstream);
  const rules: { match: Match; rule: Rule }[] = [];
  const answers = new Map<string, Answer>();
  const requests: string[] = [];
  const sockets = new Set<Socket>();

  /** The request sent on to the server, body and all; the answer read whole, uncompressed. */
  function forward(req: IncomingMessage, body: Buffer): Promise<Forwarded> {
    return new Promise((resolve, reject) => {
      const headers = flatHeaders(req.headers);
      delete headers['accept-encoding'];
      headers['host'] = target.host;
      if (body.length > 0) headers['content-length'] = String(body.length);
      const out = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: flatHeaders(res.headers), body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }

  function send(res: ServerResponse, answer: Answer): void {
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
    res.end(answer.body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = req.url ?? '/';
    requests.push(`${req.method ?? 'GET'} ${path}`);
    const rule = [...rules].reverse().find((r) => matches(r.match, path))?.rule;

    if (rule?.kind === 'replace') {
      const bytes = typeof rule.body === 'string' ? Buffer.from(rule.body) : rule.body;
      return send(res, { status: rule.status ?? 200, headers: { ...rule.headers }, body: bytes });
    }
    if (rule?.kind === 'answer') return send(res, rule.answer);
    if (rule?.kind === 'status') {
      const problem = { type: 'about:blank', title: `proxy answered ${rule.status}`, status: rule.status };
      return send(res, {
        status: rule.status,
        headers: { 'content-type': 'application/problem+json' },
        body: Buffer.from(JSON.stringify(problem)),
      });
    }
    if (rule?.kind === 'delay') await sleep(rule.ms);

    let answer: Forwarded;
    try {
      try {
        answer = await forward(req, body);
      } catch (error) {
        // A keep-alive connection the local server closed as it was reused: a gateway asks a GET again, once.
        if ((req.method ?? 'GET') !== 'GET') throw error;
        answer = await forward(req, body);
      }
    } catch (error) {
      // The server is gone: what a gateway in front of it answers.
      return send(res, {
        status: 502,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: Buffer.from(`bad gateway: ${(error as Error).message}\n`),
      });
    }
    if ((req.method ?? 'GET') === 'GET') answers.set(path, answer);

    if (rule?.kind === 'mutate') return send(res, { ...answer, body: rule.mutate(answer.body, path) });
    if (rule?.kind === 'drop') {
      const part = Math.floor(answer.body.length * (rule.fraction ?? 0.5));
      res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
      res.write(answer.body.subarray(0, part), () => {
        // Let the first part leave before the connection goes.
        setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    send(res, answer);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`proxy failure: ${(error as Error).message}\n`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const on = (match: Match, rule: Rule): (() => void) => {
    const entry = { match, rule };
    rules.push(entry);
    return () => {
      const i = rules.indexOf(entry);
      if (i >= 0) rules.splice(i, 1);
    };
  };

  return {
    origin: `http://127.0.0.1:${port}`,
    on,
    reset: () => void rules.splice(0),
    recorded: (path) => answers.get(path),
    snapshot: () => new Map(answers),
    replay: (snapshot) => {
      const removers = [...snapshot].map(([path, answer]) => on(path, { kind: 'answer', answer }));
      return () => removers.forEach((remove) => remove());
    },
    get requests() {
      return [...requests];
    },
    clearLog: () => void requests.splice(0),
    retarget: (next) => {
      target = new URL(next);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
