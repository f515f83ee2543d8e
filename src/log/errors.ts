/**
 * The one error class of the transparency log. `code` is stable: clients and the HTTP layer
 * compare codes, never messages, and the messages say what failed in words a person can act on.
 */
export type LogErrorCode =
  /** A signed note that is not in the form c2sp.org/signed-note defines. */
  | 'malformed-note'
  /** A verifier key (vkey) or key name that cannot be used. */
  | 'malformed-key'
  /** A note that no known key signed. */
  | 'unknown-key'
  /** A signature that names a known key but does not verify. */
  | 'bad-signature'
  /** A checkpoint without the log's own signature, or without its timestamped cosignature. */
  | 'missing-signature'
  /** A checkpoint body that is not in the form c2sp.org/tlog-checkpoint defines. */
  | 'malformed-checkpoint'
  /** A checkpoint of another log than the one asked for. */
  | 'wrong-origin'
  /** A cosignature older than the client accepts. */
  | 'stale'
  /** A cosignature dated further ahead of the client's clock than clocks drift. */
  | 'future'
  /** A tree smaller than one the client already saw from the same log. */
  | 'rollback'
  /** Two views of the log that cannot both be true: the log forked. */
  | 'inconsistent'
  /** A tile or entry bundle whose bytes the signed root does not vouch for. */
  | 'tile-mismatch'
  /** A path under tile/ that is not the one canonical spelling of a tile. */
  | 'malformed-tile-path'
  /** An entry bundle that is not a sequence of uint16-length-prefixed entries of its width. */
  | 'malformed-bundle'
  /** Leaf bytes that are not the leaf form of docs/log.md. */
  | 'malformed-leaf';

export class LogError extends Error {
  override readonly name = 'LogError';
  constructor(
    readonly code: LogErrorCode,
    message: string,
  ) {
    super(message);
  }
}
