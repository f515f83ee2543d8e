import { sha256 } from '@noble/hashes/sha2.js';

/** sha256-sync.ts for browsers, which have no synchronous native SHA-256: in script (@noble/hashes). */
export function sha256Sync(data: string | Uint8Array): Uint8Array {
  return sha256(typeof data === 'string' ? new TextEncoder().encode(data) : data);
}
