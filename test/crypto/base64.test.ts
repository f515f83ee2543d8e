import { describe, expect, it } from 'vitest';
import { Base64Error, decodeBase64, encodeBase64 } from '../../src/crypto/base64.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

describe('base64', () => {
  it('encodes with padding, as Nix writes keys and signatures (RFC 4648 section 10 vectors)', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(encodeBase64(new TextEncoder().encode(plain))).toBe(encoded);
      expect(new TextDecoder().decode(decodeBase64(encoded))).toBe(plain);
    }
    expect(encodeBase64(bytes(0xfb, 0xff, 0xfe))).toBe('+//+');
  });

  it('accepts missing padding, as Nix does', () => {
    expect(decodeBase64('Zm8')).toEqual(bytes(0x66, 0x6f));
    expect(decodeBase64('Zg')).toEqual(bytes(0x66));
  });

  it('refuses the URL-safe alphabet, which Nix refuses too', () => {
    expect(() => decodeBase64('-__-')).toThrow(/invalid base64: character "-" at position 0/);
  });

  it("refuses data after '=', which Nix would silently ignore", () => {
    expect(() => decodeBase64('Zg==Zm8=')).toThrow(/'=' before the end at position 2/);
    expect(() => decodeBase64('Zg=x')).toThrow(Base64Error);
  });

  it('refuses wrong padding', () => {
    expect(() => decodeBase64('Zg=')).toThrow(/1 '=' after 2 characters, expected 2/);
    expect(() => decodeBase64('Zm8==')).toThrow(/expected 1/);
    expect(() => decodeBase64('Zm9v=')).toThrow(/expected 0/);
    expect(() => decodeBase64('Z')).toThrow(/cannot encode whole bytes/);
  });

  it('refuses newlines and spaces inside the text, which Nix skips or refuses', () => {
    expect(() => decodeBase64('Zm9v\nYmFy')).toThrow(/character "\\n" at position 4/);
    expect(() => decodeBase64('Zm9v YmFy')).toThrow(/character " " at position 4/);
  });

  it('refuses non-zero leftover bits, so each byte string has one text', () => {
    // 'Zh==' and 'Zg==' both decode to 'f' in Nix's decoder.
    expect(() => decodeBase64('Zh==')).toThrow(/not canonical/);
    expect(() => decodeBase64('Zm9=')).toThrow(/not canonical/);
    expect(decodeBase64('Zg==')).toEqual(bytes(0x66));
  });

  it('refuses characters outside ASCII', () => {
    expect(() => decodeBase64('Zm9vé')).toThrow(/character "é" at position 4/);
  });
});
