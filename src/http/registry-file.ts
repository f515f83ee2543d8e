import type { StoredVersion } from '../store/version.js';
import { etagFor, notModified } from './conditional.js';

interface Validators {
  readonly etag: string;
  readonly lastModified: Date;
  readonly lastModifiedText: string;
}

// Derived once per version: the 304 path is the one Nix hits most.
const validators = new WeakMap<StoredVersion, Validators>();

function validatorsOf(version: StoredVersion): Validators {
  let found = validators.get(version);
  if (!found) {
    const lastModified = new Date(version.record.created);
    found = { etag: etagFor(version.record.sha256), lastModified, lastModifiedText: lastModified.toUTCString() };
    validators.set(version, found);
  }
  return found;
}

/**
 * A registry version's exact bytes, or 304 when the client already has them.
 * The 304 repeats the ETag: newer Nix forgets its stored ETag otherwise and
 * downloads in full next time.
 */
export function registryFileResponse(request: Request, version: StoredVersion, cacheControl: string): Response {
  const { etag, lastModified, lastModifiedText } = validatorsOf(version);
  const headers = new Headers({
    ETag: etag,
    'Last-Modified': lastModifiedText,
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
