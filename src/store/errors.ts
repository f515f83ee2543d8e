/**
 * Storage could not answer (a KV or Durable Object call failed, or a version the
 * head points at is not readable yet). Always temporary from a client's point of
 * view: the HTTP layer answers 503, so Nix retries and then falls back to its
 * cached registry instead of treating the registry as gone.
 */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The deployment itself is wrong for one registry (its embedded file can never
 * be published). No retry can fix it, so it is never answered as a storage
 * outage; the other registries keep being served.
 */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  constructor(
    readonly registry: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
