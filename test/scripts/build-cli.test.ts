import { describe, expect, it } from 'vitest';
import { sourceOf } from '../../scripts/build-cli.js';

describe("the one-file command's account of its contents", () => {
  it.each([
    ['node_modules/zod/v4/core/schemas.js', { package: 'zod' }],
    ['node_modules/@noble/hashes/sha2.js', { package: '@noble/hashes' }],
    ['node_modules/tsx/node_modules/esbuild/lib/main.js', { package: 'esbuild' }],
    ['src/nix/lookup.ts', { folder: 'src/nix' }],
    ['scripts/cli/commands/keys.ts', { folder: 'scripts/cli' }],
    ['src/lru.ts', { folder: 'src/lru.ts' }],
    ['<stdin>', { folder: 'entry' }],
  ])('counts %s under %o', (input, expected) => {
    expect(sourceOf(input)).toEqual(expected);
  });
});
