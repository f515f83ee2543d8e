import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkoutOf } from '../../../scripts/cli/standalone.js';
import { cli, TEST_PUBLIC, tempDir } from './helpers.js';

/** Where the one-file command (dist/flake-registry.mjs) finds the checkout it belongs to, if any. */

const { dir, remove } = tempDir();
afterAll(remove);

/** A directory holding `files`, with the bundle at `at` inside it. */
function place(name: string, files: Record<string, string>, at = 'dist/flake-registry.mjs'): string {
  const base = join(dir, name);
  for (const [path, text] of Object.entries({ ...files, [at]: '' })) {
    mkdirSync(join(base, path, '..'), { recursive: true });
    writeFileSync(join(base, path), text);
  }
  return base;
}

const manifest = JSON.stringify({ name: 'flake-registry-service', version: '0.1.0' });

describe('the checkout of the one-file command', () => {
  it("is the folder above its own, in a checkout's dist/", () => {
    const root = place('checkout', { 'package.json': manifest, 'wrangler.toml': '' });
    expect(checkoutOf(join(root, 'dist', 'flake-registry.mjs'))).toBe(root);
  });

  it.each([
    ['alone in a directory', {}, 'keys/flake-registry.mjs'],
    ['in an installed package, which has no wrangler.toml', { 'package.json': manifest }, 'dist/flake-registry.mjs'],
    [
      "in another project's Worker",
      { 'package.json': JSON.stringify({ name: 'other' }), 'wrangler.toml': '' },
      'dist/flake-registry.mjs',
    ],
    ['beside a package.json that is not JSON', { 'package.json': '{', 'wrangler.toml': '' }, 'dist/flake-registry.mjs'],
  ])('is none %s', (name, files, at) => {
    const base = place(name.replaceAll(' ', '-'), files, at);
    expect(checkoutOf(join(base, at))).toBeUndefined();
  });
});

describe('without a checkout', () => {
  it('trust-local refuses, writing no .dev.vars anywhere', async () => {
    const r = await cli(['trust-local', TEST_PUBLIC], { cwd: dir, root: undefined });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'flake-registry: trust-local edits .dev.vars in a checkout of flake-registry-service, and this flake-registry is a copy outside one: run `npx flake-registry trust-local` in the checkout\n',
    );
    expect(existsSync(join(dir, '.dev.vars'))).toBe(false);
  });
});
