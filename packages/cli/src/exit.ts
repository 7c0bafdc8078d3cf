/** Exit codes and the one-line error every command prints when it fails. */
import { CommanderError } from 'commander';
import { isSluiceError } from 'sluice';

export const EXIT_DONE = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Prints `sluice: <message> (<code>)` on stderr: one line a user can search for. */
export function printFailure(error: unknown): void {
  const code = isSluiceError(error) || error instanceof CliError ? error.code : 'SLUICE_ERR_UNKNOWN';
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  process.stderr.write(`sluice: ${message} (${code})\n`);
  if (process.env.SLUICE_DEBUG && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
}

/** An error only the command raises, with a code of its own in the library's `SLUICE_ERR_` style. */
export class CliError extends Error {
  readonly code: `SLUICE_ERR_${string}`;
  constructor(code: `SLUICE_ERR_${string}`, message: string) {
    super(message);
    this.name = 'CliError';
    this.code = code;
  }
}

/** `sluice lab`: two approaches to the same work gave different answers. */
export class LabMismatchError extends CliError {
  constructor(message: string) {
    super('SLUICE_ERR_LAB_MISMATCH', message);
    this.name = 'LabMismatchError';
  }
}

/**
 * A bad argument found after commander parsed the line: prints the coded line and returns the
 * error that makes bin.ts exit 2 without printing again.
 */
export function usageError(message: string): CommanderError {
  process.stderr.write(`sluice: ${message} (SLUICE_ERR_USAGE)\n`);
  return new CommanderError(EXIT_USAGE, 'sluice.usage', message);
}
