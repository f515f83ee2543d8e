import { NixError } from '../nix/errors.js';
import { ConfigurationError, StorageError, WriterBug } from '../store/errors.js';
import { Problem } from './problem.js';

/**
 * Every error classified once, here: what the client is told, and what goes to
 * the Worker's log (the cause of a storage or configuration failure, the whole
 * of an unexpected one) instead of to the client.
 */
export function toProblem(error: unknown): Problem {
  if (error instanceof Problem) return error as Problem;
  if (error instanceof NixError) return Problem.fromNix(error);
  if (error instanceof ConfigurationError) {
    console.error(error.message, error.cause);
    return new Problem('registry-misconfigured', error.message, { registry: error.registry });
  }
  if (error instanceof StorageError) {
    console.error(error.message, error.cause);
    return new Problem(
      'storage-unavailable',
      'registry storage did not answer; try again shortly',
      {},
      { 'Retry-After': '5' },
    );
  }
  if (error instanceof WriterBug) {
    console.error(error.message, error.cause);
    return new Problem('internal', 'the service failed to answer this request');
  }
  console.error('unexpected error', error);
  return new Problem('internal', 'the service failed to answer this request');
}
