import { assertNoDuplicateMembers } from './json.js';
import { Problem } from './problem.js';

/** The largest request body taken: a whole registry file of about 5,000 entries fits. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** How much of a body too large is still read (and dropped) before the reading stops. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * A request's JSON body: `application/json`, at most MAX_BODY_BYTES (counted as
 * it arrives, whatever Content-Length says), valid UTF-8 and valid JSON.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const encoding = request.headers.get('Content-Encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') {
    throw new Problem('unsupported-media-type', `send the body uncompressed, not with Content-Encoding '${encoding}'`);
  }
  const type = request.headers.get('Content-Type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type.trim())) {
    throw new Problem('unsupported-media-type', `send the body as application/json, not '${type || 'nothing'}'`);
  }
  // JSON is UTF-8 (RFC 8259 §8.1): a body declared in another charset would be read as what it is not.
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(type)?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new Problem('unsupported-media-type', `send the body in UTF-8, not in charset '${charset}'`);
  }
  const declared = Number(request.headers.get('Content-Length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = (request.body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
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
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new Problem('invalid-json', 'the body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new Problem(
      'invalid-json',
      `the body is not JSON: ${error instanceof Error ? error.message : 'parse error'}`,
    );
  }
  assertNoDuplicateMembers(text);
  return value;
}

const tooLarge = () => new Problem('payload-too-large', `the body is larger than ${MAX_BODY_BYTES} bytes`);
