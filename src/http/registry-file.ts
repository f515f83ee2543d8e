import type { StoredVersion } from '../store/version.js';
import { etagFor, notModified } from './conditional.js';

const encoder = new TextEncoder();

/**
 * A registry version's exact bytes, or 304 when the client already has them.
 * The 304 repeats the ETag: newer Nix forgets its stored ETag otherwise and
 * downloads in full next time.
 */
export function registryFileResponse(request: Request, version: StoredVersion, cacheControl: string): Response {
  const lastModified = new Date(version.record.created);
  const headers = new Headers({
    ETag: etagFor(version.record.sha256),
    'Last-Modified': lastModified.toUTCString(),
    'Cache-Control': cacheControl,
    'X-Registry-Name': version.registry,
    'X-Registry-Version': String(version.number),
  });
  if (notModified(request.headers, etagFor(version.record.sha256), lastModified)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set('Content-Type', 'application/json');
  headers.set('Content-Length', String(encoder.encode(version.body).byteLength));
  return new Response(request.method === 'HEAD' ? null : version.body, { status: 200, headers });
}
