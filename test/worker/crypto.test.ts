import { describe, expect, it } from 'vitest';
import { encodeBase64 } from '../../src/crypto/base64.js';
import { concatBytes } from '../../src/crypto/bytes.js';
import {
  formatSignature,
  generateSecretKey,
  parsePublicKey,
  parseSecretKey,
  sign,
  verify,
} from '../../src/crypto/keys.js';
import { sha256Hex, sha256HexSync } from '../../src/crypto/sha256.js';
import { hex, RFC8032_VECTORS } from '../crypto/vectors.js';

// The signing core in workerd (BoringSSL), where the Worker runs it: the unit suite runs
// the same code on Node's OpenSSL.
describe('Ed25519 in workerd', () => {
  it.each(RFC8032_VECTORS)('$name: derives the public key, signs byte for byte and verifies', async (v) => {
    const secret = await parseSecretKey(`k:${encodeBase64(concatBytes(hex(v.seed), hex(v.publicKey)))}`);
    const sig = await sign(secret, hex(v.message));
    expect(formatSignature(sig)).toBe(`k:${encodeBase64(hex(v.signature))}`);
    expect(await verify(parsePublicKey(`k:${encodeBase64(hex(v.publicKey))}`), hex(v.message), sig)).toBe(true);
  });

  it('refuses the identity-key forgery that BoringSSL alone accepts', async () => {
    const identity = hex('01'.padEnd(64, '0'));
    const forgery = concatBytes(identity, new Uint8Array(32));
    const message = crypto.getRandomValues(new Uint8Array(16));
    const raw = await crypto.subtle.importKey('raw', identity, { name: 'Ed25519' }, false, ['verify']);
    expect(await crypto.subtle.verify({ name: 'Ed25519' }, raw, forgery, message)).toBe(true);
    const key = { name: 'evil', bytes: identity, id: encodeBase64(identity) };
    expect(await verify(key, message, { name: 'evil', bytes: forgery })).toBe(false);
  });

  it('generates keys that sign and verify', async () => {
    const secret = await generateSecretKey('w');
    const sig = await sign(secret, new Uint8Array([1, 2, 3]));
    expect(await verify(secret.publicKey, new Uint8Array([1, 2, 3]), sig)).toBe(true);
  });
});

// The writer hashes each new version's file with node:crypto inside its transaction
// (src/crypto/sha256-sync.ts): in workerd it must give what Web Crypto gives, text hashed as
// the UTF-8 bytes the file is served as.
describe('synchronous SHA-256 in workerd', () => {
  it('agrees with Web Crypto on bytes, on text (a lone surrogate as U+FFFD) and on a 2 MB file', async () => {
    const big = 'x'.repeat(2 * 1024 * 1024 - 3) + 'é\u{1F600}';
    for (const input of ['', 'abc', 'nixpkgs é \u{1F600}', 'lone \uD800 surrogate', big]) {
      expect(sha256HexSync(input)).toBe(await sha256Hex(new TextEncoder().encode(input)));
    }
    const bytes = crypto.getRandomValues(new Uint8Array(65_536)).subarray(3, 60_000);
    expect(sha256HexSync(bytes)).toBe(await sha256Hex(bytes.slice()));
  });
});
