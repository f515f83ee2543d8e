#!/usr/bin/env node
// `flake-registry`. In a checkout it runs the TypeScript with tsx's loader, so edits need no
// build step; an installed package holds only this file and the one-file command beside it
// (dist/flake-registry.mjs, built by `npm run build:cli`), which needs no other module.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const source = new URL('./main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  const { run } = await import(source.href);
  await run();
} else {
  await import('../../dist/flake-registry.mjs');
}
