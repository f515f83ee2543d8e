import { describe, expect, it } from 'vitest';
import { parsePublicKey } from '../../../src/crypto/keys.js';
import { addTrustedKeys } from '../../../scripts/cli/devvars.js';
import { TEST_PUBLIC } from './helpers.js';

const OTHER = 'bob:QYpZdOSbmUfWwRf2n5yDdzodudTTkH7p0GhvIgeN7pc=';
const key = (text: string) => parsePublicKey(text);

describe('.dev.vars editing', () => {
  it('creates the line when there is no file', () => {
    const update = addTrustedKeys(undefined, [key(TEST_PUBLIC), key(OTHER)]);
    expect(update.text).toBe(`DEV_TRUSTED_KEYS="${TEST_PUBLIC} ${OTHER}"\n`);
    expect(update.added).toHaveLength(2);
  });

  it('keeps every other line and where the keys line was', () => {
    const before = `# local\nFOO=bar\nDEV_TRUSTED_KEYS="${TEST_PUBLIC}"\nBAZ='q'\n`;
    const update = addTrustedKeys(before, [key(OTHER)]);
    expect(update.text).toBe(`# local\nFOO=bar\nDEV_TRUSTED_KEYS="${TEST_PUBLIC} ${OTHER}"\nBAZ='q'\n`);
  });

  it('adds a key once, by its bytes, whatever its name', () => {
    const renamed = TEST_PUBLIC.replace('maintainer-1', 'alias');
    const update = addTrustedKeys(`DEV_TRUSTED_KEYS=${TEST_PUBLIC}\n`, [key(renamed), key(TEST_PUBLIC)]);
    expect(update.text).toBe(`DEV_TRUSTED_KEYS="${TEST_PUBLIC}"\n`);
    expect(update.added).toEqual([]);
  });

  it('folds several DEV_TRUSTED_KEYS lines into one', () => {
    const update = addTrustedKeys(`DEV_TRUSTED_KEYS="${TEST_PUBLIC}"\nX=1\nDEV_TRUSTED_KEYS="${OTHER}"\n`, []);
    expect(update.text).toBe(`DEV_TRUSTED_KEYS="${TEST_PUBLIC} ${OTHER}"\nX=1\n`);
  });

  it('refuses a file whose keys line holds something that is not a public key', () => {
    expect(() => addTrustedKeys('DEV_TRUSTED_KEYS="oops"\n', [])).toThrow(
      '.dev.vars: DEV_TRUSTED_KEYS holds something that is not a public key',
    );
  });

  it('keeps the keys of a file with CRLF line endings, and its line endings', () => {
    const [a, b] = [key(TEST_PUBLIC), key(OTHER)];
    const result = addTrustedKeys(`DEV_TRUSTED_KEYS="${TEST_PUBLIC}"\r\nOTHER=1\r\n`, [b]);
    expect(result.keys.map((k) => k.id)).toEqual([a.id, b.id]);
    expect(result.text).toBe(`DEV_TRUSTED_KEYS="${TEST_PUBLIC} ${OTHER}"\r\nOTHER=1\r\n`);
  });

  it('reads a comment after the value, and refuses a value spread over lines instead of breaking the file', () => {
    const b = key(OTHER);
    expect(addTrustedKeys(`DEV_TRUSTED_KEYS="${TEST_PUBLIC}" # alice\n`, [b]).keys).toHaveLength(2);
    expect(() => addTrustedKeys(`DEV_TRUSTED_KEYS="${TEST_PUBLIC}\n${OTHER}"\n`, [b])).toThrow(/one line/);
  });
});
