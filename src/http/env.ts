import type { Lru } from '../lru.js';
import type { RegistryStore } from '../store/store.js';

/** A finished `/resolve` answer, kept per isolate: its inputs are immutable versions. */
export interface Resolution {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** The body as UTF-8, encoded once: what is served and measured. */
  readonly bytes: Uint8Array;
  /** Set on 200 answers only: errors are never cached, so they need no validator. */
  readonly etag?: string;
}

export interface Config {
  /** Nix's `tarball-ttl`: `max-age` of every response that follows the latest version. */
  readonly ttl: number;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    store: RegistryStore;
    config: Config;
    resolutions: Lru<string, Resolution>;
  };
}

const DEFAULT_TTL = 3600;

export function configFrom(env: { readonly TARBALL_TTL?: string }): Config {
  const raw = env.TARBALL_TTL;
  const ttl = raw === undefined ? DEFAULT_TTL : Number(raw);
  if (!Number.isSafeInteger(ttl) || ttl < 0) {
    throw new Error(`TARBALL_TTL must be a whole number of seconds, got '${raw}'`);
  }
  return { ttl };
}

/**
 * Local development only: maintainer keys (Nix's public-key format, separated by
 * whitespace, as in nix.conf's trusted-public-keys) that join every embedded
 * registry's genesis policy. Read from `.dev.vars`, which `wrangler dev` loads and
 * `wrangler deploy` never uploads; the app also refuses to serve with it on any
 * host but a loopback one (app.ts).
 */
export function localTrustedKeys(env: object): string[] {
  const value = (env as { DEV_TRUSTED_KEYS?: unknown }).DEV_TRUSTED_KEYS;
  return typeof value === 'string' ? value.split(/\s+/).filter((k) => k !== '') : [];
}
