/**
 * Ctrl-C for commands that run a flow: the first SIGINT aborts the run's signal, so the run stops
 * cleanly (every call in flight sees its signal, no new batch starts, resources close); a second
 * one exits at once, for when the user will not wait.
 */

/** The conventional exit code of a process stopped by SIGINT (128 + 2). */
export const EXIT_INTERRUPTED = 130;

export interface Interrupt {
  readonly signal: AbortSignal;
  /** True once the user has pressed Ctrl-C. */
  readonly interrupted: boolean;
  /** Stops listening for SIGINT. */
  dispose(): void;
}

export function abortOnInterrupt(): Interrupt {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    process.stderr.write('sluice: interrupted, stopping (Ctrl-C again to quit at once)\n');
    controller.abort(new Error('interrupted by SIGINT'));
  };
  process.on('SIGINT', onSigint);
  return {
    signal: controller.signal,
    get interrupted() {
      return controller.signal.aborted;
    },
    dispose: () => {
      process.off('SIGINT', onSigint);
    },
  };
}
