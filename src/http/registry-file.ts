import type { Head } from '../store/records.js';
import type { StoredVersion } from '../store/version.js';
import { etagFor, type Validators } from './conditional.js';
import { respondWith } from './representation.js';

// Derived once per version: the 304 path is the one Nix hits most.
const validators = new WeakMap<StoredVersion, Validators>();

export function validatorsOf(version: StoredVersion): Validators {
  let found = validators.get(version);
  if (!found) {
    found = { etag: etagFor(version.record.sha256), lastModified: new Date(version.record.created) };
    validators.set(version, found);
  }
  return found;
}

/**
 * A registry version's exact bytes, or 304 when the client already has them.
 * `head` is given when the URL follows the latest version: its Last-Modified may
 * then be shared with the version before (see Validators.sharedSecond).
 */
export function registryFileResponse(
  request: Request,
  version: StoredVersion,
  cacheControl: string,
  head?: Head,
): Response {
  const validators = validatorsOf(version);
  return respondWith(request, {
    validators: head?.sharedSecond === true ? { ...validators, sharedSecond: true } : validators,
    bytes: version.bytes,
    contentType: 'application/json',
    headers: {
      'Cache-Control': cacheControl,
      'X-Registry-Name': version.registry,
      'X-Registry-Version': String(version.number),
    },
  });
}
