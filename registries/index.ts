import type { EmbeddedRegistry } from '../src/store/seed.js';
import global from './global.json';
import globalPolicy from './global.policy.json';

/**
 * The registries the service starts with. On an empty store each becomes
 * version 1 of the registry of that name, carrying `created` as its time and
 * `policy` (the trusted maintainer keys and threshold, `NAME.policy.json`) as
 * the policy every later change must satisfy, so version 1's bytes and record
 * are the same on every deployment.
 */
export const embeddedRegistries: readonly EmbeddedRegistry[] = [
  { name: 'global', file: global, policy: globalPolicy, created: '2026-11-23T00:00:00Z' },
];
