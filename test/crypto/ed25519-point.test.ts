import { describe, expect, it } from 'vitest';
import {
  decodePoint,
  isCanonicalAndNotSmallOrder,
  isCanonicalScalar,
  isSmallOrder,
} from '../../src/crypto/ed25519-point.js';
import { hex, NON_CANONICAL_POINTS, SMALL_ORDER_POINTS } from './vectors.js';

const BASE_POINT = '5866666666666666666666666666666666666666666666666666666666666666';

describe('edwards25519 encodings', () => {
  it.each(SMALL_ORDER_POINTS)('finds %s of small order, by decoding and by its y alone', (_, h) => {
    const decoded = decodePoint(hex(h));
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(isSmallOrder(decoded.point)).toBe(true);
    expect(isCanonicalAndNotSmallOrder(hex(h))).toBe(false);
  });

  it.each(NON_CANONICAL_POINTS)('refuses the non-canonical encoding %s', (_, h) => {
    expect(decodePoint(hex(h))).toEqual({ ok: false, reason: 'non-canonical' });
    expect(isCanonicalAndNotSmallOrder(hex(h))).toBe(false);
  });

  it('decodes y = 3 as an ordinary point, so y = p + 3 is refused only for being non-canonical', () => {
    const three = hex('03'.padEnd(64, '0'));
    const decoded = decodePoint(three);
    expect(decoded.ok && !isSmallOrder(decoded.point)).toBe(true);
    expect(isCanonicalAndNotSmallOrder(three)).toBe(true);
  });

  it('accepts the base point and knows it is not of small order', () => {
    const decoded = decodePoint(hex(BASE_POINT));
    expect(decoded.ok).toBe(true);
    if (decoded.ok) {
      expect(decoded.point.x).toBe(15112221349535400772501151409588531511454012693041857206046113283949847762202n);
      expect(isSmallOrder(decoded.point)).toBe(false);
    }
    expect(isCanonicalAndNotSmallOrder(hex(BASE_POINT))).toBe(true);
  });

  it('reports a y with no x on the curve', () => {
    expect(decodePoint(hex('02'.padEnd(64, '0')))).toEqual({ ok: false, reason: 'not-on-curve' });
  });

  it('takes scalars below L as canonical and L or more as not', () => {
    const L = 'edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010';
    const below = 'ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010';
    expect(isCanonicalScalar(hex(below))).toBe(true);
    expect(isCanonicalScalar(hex(L))).toBe(false);
    expect(isCanonicalScalar(hex('ff'.repeat(32)))).toBe(false);
    expect(isCanonicalScalar(new Uint8Array(32))).toBe(true);
  });
});
