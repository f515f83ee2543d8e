import { readFileSync } from 'node:fs';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// The official NixOS registry, when a copy is given (test/nix/official-registry.ts), reaches
// the workerd tests as a binding: they cannot read files.
const official = process.env['OFFICIAL_FLAKE_REGISTRY'];
const officialBinding = official ? { OFFICIAL_FLAKE_REGISTRY_JSON: readFileSync(official, 'utf8') } : {};

// Five projects: the pure Nix core in Node, the Worker in workerd (real KV and
// Durable Objects through miniflare), `npm start` as a new user runs it, the
// conformance suite that drives real Nix against a locally started server, and the
// web pages in a real headless browser against another.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'node',
          include: ['test/*.test.ts', 'test/{api,nix,crypto,protocol,scripts,log,served,store}/**/*.test.ts'],
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './test/worker/wrangler.toml' },
            miniflare: { bindings: officialBinding },
          }),
        ],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          environment: 'node',
          setupFiles: ['test/support/contract-setup.ts'],
          include: ['test/e2e/**/*.test.ts'],
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'conformance',
          environment: 'node',
          setupFiles: ['test/support/contract-setup.ts'],
          include: ['test/conformance/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'browser',
          environment: 'node',
          setupFiles: ['test/support/contract-setup.ts'],
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
