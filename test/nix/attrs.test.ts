import { describe, expect, it } from 'vitest';
import { attrsEqual, compareKeys, sortAttrs, withoutAttrs } from '../../src/nix/attrs.js';

describe('attrs', () => {
  it('compares the whole attribute set, whatever the key order', () => {
    expect(attrsEqual({ type: 'indirect', id: 'a' }, { id: 'a', type: 'indirect' })).toBe(true);
    expect(attrsEqual({ type: 'indirect', id: 'a' }, { id: 'a', type: 'indirect', ref: 'x' })).toBe(false);
    expect(attrsEqual({ n: 1 }, { n: '1' })).toBe(false);
  });
  it('sorts keys and drops the named ones', () => {
    expect(Object.keys(sortAttrs({ z: 1, a: 2 }))).toEqual(['a', 'z']);
    expect(withoutAttrs({ id: 'a', ref: 'r', rev: 'x' }, 'ref', 'rev')).toEqual({ id: 'a' });
  });
  it('orders keys as std::map does: UTF-8 bytes, not UTF-16 code units', () => {
    // U+FFFD is EF BF BD in UTF-8, U+1F600 F0 9F 98 80: the astral key sorts last, although
    // its UTF-16 form (D83D DE00) sorts first by code unit.
    const keys = ['\u{1F600}', 'b', '\uFFFD', 'B', 'a', 'ab', ''];
    expect([...keys].sort(compareKeys)).toEqual(['', 'B', 'a', 'ab', 'b', '\uFFFD', '\u{1F600}']);
    expect(Object.keys(sortAttrs({ '\u{1F600}': 1, '\uFFFD': 2, a: 3 }))).toEqual(['a', '\uFFFD', '\u{1F600}']);
  });
  it('keeps a __proto__ key as data when sorting', () => {
    const attrs = JSON.parse('{"__proto__": "x", "a": 1}') as Record<string, string | number>;
    const sorted = sortAttrs(attrs);
    expect(Object.keys(sorted)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(sorted)).toBe(Object.prototype);
  });
});
