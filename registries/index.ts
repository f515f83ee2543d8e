// Written by `npm run build:registries` (scripts/embed-registries.ts) from the files in this folder,
// before every `wrangler dev`, `wrangler deploy` and `npm test`. Do not edit: add a registry by
// putting NAME.json and NAME.policy.json here.
import type { EmbeddedRegistry } from '../src/store/seed.js';
import r0 from './global.json';
import p0 from './global.policy.json';

/**
 * The time every embedded registry's version 1 carries, on every deployment: seeding is
 * deterministic, so the same files always make the same version 1, bytes and record.
 */
export const GENESIS_TIME = '2026-11-23T00:00:00Z';

/**
 * The registries the service starts with. On an empty store each becomes
 * version 1 of the registry of that name, carrying `GENESIS_TIME` as its time and
 * `policy` (the trusted maintainer keys and threshold, `NAME.policy.json`) as
 * the policy every later change must satisfy.
 */
export const embeddedRegistries: readonly EmbeddedRegistry[] = [
  { name: 'global', file: r0, policy: p0, created: GENESIS_TIME },
];
