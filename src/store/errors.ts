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
