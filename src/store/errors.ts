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

/**
 * The registry's writer threw: a bug in the service, not trouble with storage.
 * Answered 500 (internal) with the cause in the Worker's log, never as a 503
 * that invites a retry.
 */
export class WriterBug extends Error {
  override readonly name = 'WriterBug';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * How a failed call to a registry's writer is told. What the platform failed to
 * deliver (the object is overloaded, restarting or unreachable) is storage
 * trouble: 503, retry. What the writer's own code threw (`remote`, and not marked
 * retryable) is a bug: 500, never a retry that would fail the same way.
 */
export function writerFailure(registry: string, cause: unknown): StorageError | WriterBug {
  const e = cause as { remote?: unknown; retryable?: unknown; overloaded?: unknown } | null;
  if (e?.remote === true && e.retryable !== true && e.overloaded !== true) {
    return new WriterBug(`the writer of registry '${registry}' failed`, { cause });
  }
  return new StorageError(`the writer of registry '${registry}' did not answer`, { cause });
}
