import { evaluatePreconditions, type Validators } from './conditional.js';
import { Problem } from './problem.js';

const encoder = new TextEncoder();

/** A body with validators: a registry file, a version record, a resolution. */
export interface Representation {
  readonly validators: Validators;
  /** Served as is; measured for Content-Length. */
  readonly bytes: Uint8Array;
  readonly contentType: string;
  /** Cache-Control, X-Registry-* and the like: sent on 200 and 304 alike. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The UTF-8 bytes of a text body, for a Representation. */
export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/**
 * 200 with the body, 304 when the client already has it, or 412 when a
 * precondition fails. The 304 repeats the ETag and every other header a 200
 * would carry but the body's own: newer Nix forgets its stored ETag when a 304
 * omits it (src/libstore/filetransfer.cc) and downloads in full next time.
 */
export function respondWith(request: Request, rep: Representation): Response {
  const { etag, lastModified } = rep.validators;
  const headers = new Headers({
    ...rep.headers,
    ETag: etag,
    ...(lastModified === undefined ? {} : { 'Last-Modified': lastModified.toUTCString() }),
    Vary: 'Accept-Encoding',
  });
  switch (evaluatePreconditions(request.headers, rep.validators)) {
    case 'failed':
      throw new Problem('precondition-failed', `the current representation has ETag ${etag}`, {}, { ETag: etag });
    case 'not-modified':
      return new Response(null, { status: 304, headers });
    case 'proceed':
      headers.set('Content-Type', rep.contentType);
      headers.set('Content-Length', String(rep.bytes.byteLength));
      return new Response(request.method === 'HEAD' ? null : rep.bytes, { status: 200, headers });
  }
}
