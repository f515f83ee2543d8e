import { describe, expect, it } from 'vitest';
import { Lru } from '../src/lru.js';

describe('Lru', () => {
  it('forgets the least recently used entry first', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
  });

  it('keeps the total weight under its capacity, and refuses an entry heavier than it', () => {
    const lru = new Lru<string, string>(10, (key, value) => key.length + value.length);
    lru.set('a', '1234');
    lru.set('b', '1234');
    expect(lru.weight).toBe(10);
    lru.set('c', '12');
    expect(lru.get('a')).toBeUndefined();
    expect(lru.weight).toBe(8);
    lru.set('huge', 'x'.repeat(20));
    expect(lru.get('huge')).toBeUndefined();
    expect(lru.size).toBe(2);
  });

  it('replaces an entry without counting it twice', () => {
    const lru = new Lru<string, string>(10, (_, value) => value.length);
    lru.set('a', '12345');
    lru.set('a', '123');
    expect(lru.weight).toBe(3);
    lru.delete('a');
    expect(lru.weight).toBe(0);
  });
});
