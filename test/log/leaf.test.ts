import { describe, expect, it } from 'vitest';
import { LogError } from '../../src/log/errors.js';
import { LEAF_DOMAIN, leafData, leafIndex, parseLeafData, type Leaf } from '../../src/log/leaf.js';

const LEAF: Leaf = {
  registry: 'global',
  version: 12,
  record: 'a'.repeat(64),
  file: '0123456789abcdef'.repeat(4),
};

const TEXT =
  'flake-registry/leaf/v1\n' +
  'registry global\n' +
  'version 12\n' +
  `record ${'a'.repeat(64)}\n` +
  `file ${'0123456789abcdef'.repeat(4)}\n`;

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (error) {
    return error instanceof LogError ? error.code : `not a LogError: ${String(error)}`;
  }
  return undefined;
};

describe('leaf bytes', () => {
  it('writes the domain line, then registry, version, record and file, each line ending in a newline', () => {
    expect(LEAF_DOMAIN).toBe('flake-registry/leaf/v1');
    expect(new TextDecoder().decode(leafData(LEAF))).toBe(TEXT);
  });

  it('reads back what it writes', () => {
    expect(parseLeafData(leafData(LEAF))).toEqual(LEAF);
    const first = { ...LEAF, registry: 'a', version: 1 };
    expect(parseLeafData(leafData(first))).toEqual(first);
  });

  it('counts leaves from 0 and versions from 1', () => {
    expect(leafIndex(1)).toBe(0);
    expect(leafIndex(12)).toBe(11);
  });

  it.each([
    ['another domain line', TEXT.replace('leaf/v1', 'leaf/v2')],
    ['no final newline', TEXT.slice(0, -1)],
    ['an extra line', `${TEXT}extra\n`],
    ['an extra blank line', `${TEXT}\n`],
    ['fields out of order', TEXT.replace(/^(record .*)\n(file .*)$/m, '$2\n$1')],
    ['an upper-case hash', TEXT.replace('a'.repeat(64), 'A'.repeat(64))],
    ['a short hash', TEXT.replace('a'.repeat(64), 'a'.repeat(63))],
    ['version 0', TEXT.replace('version 12', 'version 0')],
    ['a version with a leading zero', TEXT.replace('version 12', 'version 012')],
    ['a version past 2^53', TEXT.replace('version 12', 'version 9007199254740993')],
    ['a registry name with upper case', TEXT.replace('registry global', 'registry Global')],
    ['two spaces', TEXT.replace('registry global', 'registry  global')],
    ['a trailing space', TEXT.replace('version 12', 'version 12 ')],
    ['a carriage return', TEXT.replace('version 12\n', 'version 12\r\n')],
    ['a non-ASCII byte', TEXT.replace('global', 'glöbal')],
    ['a missing field', TEXT.replace(/^file .*\n/m, '')],
  ])('refuses leaf bytes with %s', (_, text) => {
    expect(code(() => parseLeafData(bytes(text)))).toBe('malformed-leaf');
  });

  it.each([
    ['a registry name that is not one', { registry: 'a b' }],
    ['version 0', { version: 0 }],
    ['a fractional version', { version: 1.5 }],
    ['a hash in upper case', { record: 'A'.repeat(64) }],
    ['a hash of another length', { file: 'a'.repeat(40) }],
  ])('refuses to make a leaf with %s', (_, change) => {
    expect(code(() => leafData({ ...LEAF, ...change }))).toBe('malformed-leaf');
  });
});
