import type { Config } from './env.js';

/** A day of stale copies for CDNs when the origin fails; Nix has its own fallback. */
const STALE_IF_ERROR = 86_400;

export const cacheControl = {
  /** Anything that follows the latest version: fresh for Nix's tarball-ttl. */
  latest: (config: Config) => `public, max-age=${config.ttl}, stale-if-error=${STALE_IF_ERROR}`,
  /** Versioned URLs never change. */
  immutable: 'public, max-age=31536000, immutable',
  /** Listings that a merge changes; short so new versions show up quickly. */
  listing: 'public, max-age=60',
  /** A checkpoint proves freshness: reused for seconds at most (docs/log.md). */
  checkpoint: 'public, max-age=5',
  none: 'no-store',
} as const;
