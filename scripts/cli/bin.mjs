#!/usr/bin/env node
// `flake-registry`: runs the TypeScript CLI with tsx's loader, so a checkout needs no build step.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('./main.ts');
await run();
