import { describe, expect, it } from 'vitest';
import { attrsEqual, sortAttrs, withoutAttrs } from '../../src/nix/attrs.js';

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
});
