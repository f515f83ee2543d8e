import type { StoredVersion } from '../store/version.js';
import { etagFor, notModified } from './conditional.js';

/**
 * A registry version's exact bytes, or 304 when the client already has them.
 * The 304 repeats the ETag: newer Nix forgets its stored ETag otherwise and
 * downloads in full next time.
 */
export function registryFileResponse(request: Request, version: StoredVersion, cacheControl: string): Response {
  const lastModified = new Date(version.record.created);
  const etag = etagFor(version.record.sha256);
  const headers = new Headers({
    ETag: etag,
    'Last-Modified': lastModified.toUTCString(),
    'Cache-Control': cacheControl,
    'X-Registry-Name': version.registry,
    'X-Registry-Version': String(version.number),
  });
  if (notModified(request.headers, etag, lastModified)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set('Content-Type', 'application/json');
  headers.set('Content-Length', String(version.bytes.byteLength));
  return new Response(request.method === 'HEAD' ? null : version.bytes, { status: 200, headers });
}
