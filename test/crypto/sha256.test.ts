import { describe, expect, it } from 'vitest';
import { sha256Hex, sha256HexSync } from '../../src/crypto/sha256.js';
import { sha256Sync as inScript } from '../../src/crypto/sha256-sync.browser.js';
import { mulberry32 } from '../../scripts/bench/prng.js';

const text = (s: string) => new TextEncoder().encode(s);

describe('sha256HexSync', () => {
  // FIPS 180-4 examples (NIST CSRC "Examples with Intermediate Values") and common vectors.
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
    [
      'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
      'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
    ],
    ['The quick brown fox jumps over the lazy dog', 'd7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592'],
  ])('hashes %j as the standard says', (input, digest) => {
    expect(sha256HexSync(text(input))).toBe(digest);
  });

  it('hashes a million times "a"', () => {
    expect(sha256HexSync(new Uint8Array(1_000_000).fill(0x61))).toBe(
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    );
  });

  it('agrees with Web Crypto on random inputs of every length around the block and padding boundaries', async () => {
    const random = mulberry32(7);
    const lengths = [
      ...Array.from({ length: 200 }, (_, i) => i),
      ...[511, 512, 513, 4095, 4096, 4097, 65_536 + 55, 65_536 + 56],
      ...Array.from({ length: 20 }, () => Math.floor(random() * 100_000)),
    ];
    for (const length of lengths) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      expect(sha256HexSync(bytes), `length ${length}`).toBe(await sha256Hex(bytes));
    }
  });

  it('hashes a view into a larger buffer by its own bytes only', async () => {
    const buffer = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const view = buffer.subarray(17, 250);
    expect(sha256HexSync(view)).toBe(await sha256Hex(view.slice()));
  });

  it('hashes text as its UTF-8 bytes, a lone surrogate as U+FFFD, as TextEncoder writes them', async () => {
    for (const input of ['', 'nixpkgs é \u{1F600}', 'lone \uD800 surrogate', 'x'.repeat(100_000) + '\uDFFF']) {
      expect(sha256HexSync(input)).toBe(await sha256Hex(text(input)));
    }
  });
});

// The pages' bundle hashes in script (scripts/build-web.ts swaps sha256-sync.ts for it).
describe('the browser hash', () => {
  it('gives the native hash on text and bytes of every length around the block boundaries', async () => {
    const random = mulberry32(11);
    for (let length = 0; length < 300; length++) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      expect(Buffer.from(inScript(bytes)).toString('hex'), `length ${length}`).toBe(sha256HexSync(bytes));
    }
    const input = 'lone \uD800 surrogate, é and \u{1F600}';
    expect(Buffer.from(inScript(input)).toString('hex')).toBe(await sha256Hex(text(input)));
  });
});
