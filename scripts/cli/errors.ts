/**
 * The two ways a command fails. Each becomes one line on stderr: no stack
 * trace, no second line. `cause` keeps what went wrong underneath for tests.
 */

/** Bad input, a refusal by the server, an unreachable server: exit 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
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

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
