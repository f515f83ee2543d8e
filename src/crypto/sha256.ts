import { bytesToHex } from '@noble/hashes/utils.js';
import { ownBuffer } from './bytes.js';
import { sha256Sync } from './sha256-sync.js';

const encoder = new TextEncoder();
const bytesOf = (data: string | Uint8Array): Uint8Array => (typeof data === 'string' ? encoder.encode(data) : data);

/**
 * Lowercase hex SHA-256 of `data`, or of the UTF-8 bytes of `data` when it is text
 * (Web Crypto: same in workerd and Node, and native).
 */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', ownBuffer(bytesOf(data)))));
}

/**
 * The same, synchronously (sha256-sync.ts). The writer hashes a new version
 * inside a storage transaction, where no `await` is allowed, so Web Crypto's
 * `digest` cannot be used there.
 */
export function sha256HexSync(data: string | Uint8Array): string {
  return bytesToHex(sha256Sync(data));
}

/** The raw 32 bytes, synchronously: what Merkle trees and signed formats hash. */
export function sha256Bytes(data: string | Uint8Array): Uint8Array {
  return sha256Sync(data);
}
