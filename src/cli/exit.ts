/** Exit codes and the one-line error every command prints when it fails. */
import { CommanderError } from 'commander';
import { errorMessage, isSluiceError } from '../core/errors.js';

export const EXIT_DONE = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Prints `sluice: <message> (<code>)` on stderr: one line a user can search for. */
export function printFailure(error: unknown): void {
  const code = isSluiceError(error) ? (error as { code: string }).code : 'SLUICE_ERR_UNKNOWN';
  const message = errorMessage(error).split('\n')[0];
  process.stderr.write(`sluice: ${message} (${code})\n`);
  if (process.env.SLUICE_DEBUG && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
}

/**
 * A bad argument found after commander parsed the line: prints the coded line and returns the
 * error that makes bin.ts exit 2 without printing again.
 */
export function usageError(message: string): CommanderError {
  process.stderr.write(`sluice: ${message} (SLUICE_ERR_USAGE)\n`);
  return new CommanderError(EXIT_USAGE, 'sluice.usage', message);
}
