/** The one error class of the lock-file reader: a stable `code` per kind, the node when there is one. */
export type LockFileErrorCode =
  /** The text does not parse as JSON. */
  | 'not-json'
  /** The JSON is not an object. */
  | 'not-object'
  /** `version` is missing or not 5, 6 or 7. */
  | 'unsupported-version'
  /** No `root`, or it names no node. */
  | 'missing-root'
  /** No `nodes` object. */
  | 'missing-nodes'
  /** A node without `original` or `locked`. */
  | 'missing-attribute'
  /** A node of the wrong shape (not an object, bad `inputs`, `flake` or `parent`, bad attribute types). */
  | 'invalid-node'
  /** `original` or `locked` that Nix refuses as an input. */
  | 'invalid-ref'
  /** `locked` without a rev or narHash: Nix refuses the file unless `--allow-dirty-locks`. */
  | 'unlocked'
  /** An input names a node that is not in `nodes`. */
  | 'missing-node'
  /** An input names the root node (only a `follows` may point there). */
  | 'cycle-to-root'
  /** A `follows` that leads to no input. */
  | 'follows-missing'
  /** A `follows` that leads back to itself. */
  | 'follows-cycle'
  /** Over one of the caps (nodes, inputs, depth, work to resolve follows). */
  | 'too-large';

export class LockFileError extends Error {
  override readonly name = 'LockFileError';
  constructor(
    readonly code: LockFileErrorCode,
    message: string,
    /** The node the problem is in or names. */
    readonly node?: string,
  ) {
    super(message);
  }
}
