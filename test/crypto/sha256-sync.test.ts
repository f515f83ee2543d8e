import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../scripts/bench/prng.js';
import { sha256Hex } from '../../src/crypto/sha256.js';
import { sha256HexSync } from '../../src/crypto/sha256-sync.js';

describe('sha256HexSync', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
  ])('gives the FIPS 180-4 digest of %j', (text, digest) => {
    expect(sha256HexSync(text)).toBe(digest);
  });

  it('agrees with WebCrypto on every length around the block boundaries and on random data', async () => {
    const random = mulberry32(0x5a256);
    for (const length of [...Array.from({ length: 140 }, (_, i) => i), 1000, 4095, 65_537, 1_000_003]) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      expect(sha256HexSync(bytes), `length ${length}`).toBe(await sha256Hex(bytes));
    }
  });

  it('hashes a view into a larger buffer by the view alone', async () => {
    const whole = new TextEncoder().encode('xxhello worldyy');
    const view = whole.subarray(2, 13);
    expect(sha256HexSync(view)).toBe(await sha256Hex('hello world'));
  });
});
