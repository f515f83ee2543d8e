import { describe, expect, it } from 'vitest';
import { assertNoDuplicateMembers } from '../../src/http/json.js';

describe('bodies that name a member twice', () => {
  it.each([
    ['{"a":1,"a":2}'],
    ['{"x":{"a":1,"b":[{"c":1}],"a":2}}'],
    ['[{"a":1},{"b":1,"b":2}]'],
    ['{"a\\"":1,"a\\u0022":2}'],
    [' { "a" : 1 , "a" : 1 } '],
  ])('refuses %s', (text) => {
    JSON.parse(text);
    expect(() => assertNoDuplicateMembers(text)).toThrow(/twice/);
  });

  it.each([
    ['{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}'],
    ['{"a":"a","b":"{\\"a\\":1,\\"a\\":2}"}'],
    ['["a","a"]'],
    ['{"a\\\\":1,"a":2}'],
    ['{}'],
  ])('accepts %s', (text) => {
    JSON.parse(text);
    expect(() => assertNoDuplicateMembers(text)).not.toThrow();
  });
});
