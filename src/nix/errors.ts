/**
 * The one error class of the Nix core. Every failure that Nix itself reports
 * carries Nix's own message text; `kind` is the stable category the HTTP
 * layer maps to a problem type.
 */
export type NixErrorKind =
  /** A flake reference (or an input's attributes) that Nix refuses to parse. */
  | 'invalid-ref'
  /** A registry file Nix would reject or read only in part. */
  | 'invalid-registry'
  /** An indirect reference left over after lookup. */
  | 'not-found'
  /** More than 100 lookup steps. */
  | 'cycle'
  /** A ref or rev that the entry's target cannot take. */
  | 'override';

const KINDS: Readonly<Record<NixErrorKind, true>> = {
  'invalid-ref': true,
  'invalid-registry': true,
  'not-found': true,
  cycle: true,
  override: true,
};

/** Whether a problem kind is one of Nix's own errors, whose text is Nix's (the HTTP layer names them alike). */
export const isNixErrorKind = (kind: string): kind is NixErrorKind => Object.hasOwn(KINDS, kind);

export class NixError extends Error {
  override readonly name = 'NixError';
  constructor(
    readonly kind: NixErrorKind,
    message: string,
  ) {
    super(message);
  }
}
