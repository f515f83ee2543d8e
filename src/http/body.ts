import { MAX_BODY_BYTES } from '../api/limits.js';
import { assertNoDuplicateMembers } from './json.js';
import { Problem } from './problem.js';

export { MAX_BODY_BYTES } from '../api/limits.js';
/** How much of a body too large is still read (and dropped) before the reading stops. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * A request's JSON body: `application/json`, at most MAX_BODY_BYTES (counted as
 * it arrives, whatever Content-Length says), valid UTF-8 and valid JSON.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  return parseJson(await readTextBody(request, 'application/json'), 'the body');
}

/** What a body may be sent as: JSON for the API, a form's fields for a page's form. */
export type BodyType = 'application/json' | 'application/x-www-form-urlencoded';

/**
 * A request's body as text: of `type`, uncompressed, at most MAX_BODY_BYTES (counted as it
 * arrives, whatever Content-Length says), valid UTF-8.
 */
export async function readTextBody(request: Request, type: BodyType): Promise<string> {
  const encoding = request.headers.get('Content-Encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') {
    throw new Problem('unsupported-media-type', `send the body uncompressed, not with Content-Encoding '${encoding}'`);
  }
  const given = request.headers.get('Content-Type') ?? '';
  const [essence = ''] = given.split(';');
  if (essence.trim().toLowerCase() !== type) {
    throw new Problem('unsupported-media-type', `send the body as ${type}, not '${given || 'nothing'}'`);
  }
  // JSON is UTF-8 (RFC 8259 §8.1), and so is what a page's form sends (its page is UTF-8): a
  // body declared in another charset would be read as what it is not.
  const charsets = [...given.matchAll(/;\s*charset\s*=\s*"?([^";\s]*)"?/gi)].map((m) => m[1] ?? '');
  const other = charsets.find((c) => !/^utf-?8$/i.test(c));
  if (other !== undefined) {
    throw new Problem('unsupported-media-type', `send the body in UTF-8, not in charset '${other}'`);
  }
  if (charsets.length > 1) throw new Problem('unsupported-media-type', 'name the charset once');
  const declared = Number(request.headers.get('Content-Length') ?? '0');
  if (declared > MAX_BODY_BYTES) {
    // Refused unread: the app drops what arrives within a second (so a kept-alive connection
    // goes on), and past what is worth reading answers at once.
    if (declared > DRAIN_LIMIT_BYTES) await request.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = (request.body as ReadableStream<Uint8Array>).getReader();
    // A client that goes away errors the stream: that is answered below, not left unhandled.
    reader.closed.catch(() => undefined);
    for (;;) {
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await reader.read();
      } catch {
        // The client went away mid-body: nobody is left to answer, and nothing is logged.
        throw new Problem(
          'invalid-request',
          'the request body ended before it was complete',
          {},
          { Connection: 'close' },
        );
      }
      const { done, value } = read;
      if (done) break;
      size += value.byteLength;
      // Past the limit the rest is read and dropped rather than cut off: a body left
      // half read can break the connection it came on for the next request.
      if (size > MAX_BODY_BYTES) {
        if (size > DRAIN_LIMIT_BYTES) {
          await reader.cancel();
          throw tooLarge();
        }
        continue;
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (size > MAX_BODY_BYTES) throw tooLarge();
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw type === 'application/json'
      ? new Problem('invalid-json', 'the body is not valid UTF-8')
      : new Problem('invalid-request', 'the body is not valid UTF-8');
  }
}

/** A JSON text (`what` names it in the error: `the body`, `the document`), with no member given twice. */
export function parseJson(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new Problem('invalid-json', `${what} is not JSON: ${error instanceof Error ? error.message : 'parse error'}`);
  }
  assertNoDuplicateMembers(text);
  return value;
}

const tooLarge = () =>
  new Problem('payload-too-large', `the body is larger than ${MAX_BODY_BYTES} bytes`, {}, { Connection: 'close' });

/** How long a body nobody reads is waited for before it is let go of. */
const DRAIN_WAIT_MS = 1_000;

/**
 * Reads and drops a body nobody read, so a kept-alive connection can carry the
 * next request: up to DRAIN_LIMIT_BYTES and DRAIN_WAIT_MS, after which the rest
 * is let go of (a body that never comes must not hold up the answer). Never
 * throws: a client that went away has nothing left to be told.
 */
export async function discardBody(request: Request): Promise<void> {
  if (request.body === null || request.bodyUsed) return;
  const reader = (request.body as ReadableStream<Uint8Array>).getReader();
  reader.closed.catch(() => undefined);
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), DRAIN_WAIT_MS);
  });
  try {
    for (;;) {
      const read = await Promise.race([reader.read(), late]);
      if (read === 'late') break;
      if (read.done) return;
      size += read.value.byteLength;
      if (size > DRAIN_LIMIT_BYTES) break;
    }
    await reader.cancel();
  } catch {
    // The client went away.
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}
