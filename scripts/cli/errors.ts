/**
 * The two ways a command fails. Each becomes one line on stderr: no stack
 * trace, no second line. `cause` keeps what went wrong underneath for tests.
 */

/** Bad input, a refusal by the server, an unreachable server: exit 1. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
}

/** The server could not be reached or did not answer in time: exit 1, like any CliError. */
export class UnreachableError extends CliError {
  override readonly name = 'UnreachableError';
}

/** The command line itself is wrong (unknown command or flag, missing argument): exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The command whose `--help` to point at, if known. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/**
 * What a server sent does not verify: sync refuses it, leaving its file and state as they
 * were. Printed as a line starting `SECURITY ERROR`, then the evidence, indented: exit 3.
 */
export class SecurityError extends Error {
  override readonly name = 'SecurityError';
  constructor(
    message: string,
    /** A stable name for what failed: a log or verifier code, or `anchor-mismatch`, `fork`, … */
    readonly code: string,
    /** What was expected and what was served, a line each. */
    readonly evidence: readonly string[] = [],
  ) {
    super(message);
  }
}

/**
 * The command ran and found what a caller gates on (audit: an input redirected or not found).
 * Its output is complete; the message is one line on stderr saying what was found: exit 4.
 */
export class FindingsError extends Error {
  override readonly name = 'FindingsError';
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_SECURITY = 3;
export const EXIT_FINDINGS = 4;
