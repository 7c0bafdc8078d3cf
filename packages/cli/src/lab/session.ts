/**
 * One lab command's run and what it holds open: servers, child processes, pools, temporary
 * files. Everything opened is registered here, so that the end of a run, a failure and Ctrl-C
 * all close the same things, in the reverse order of opening.
 */
import { AbortError } from 'sluice';

export type Cleanup = () => unknown;

export class LabSession {
  readonly #controller = new AbortController();
  readonly #cleanups: Cleanup[] = [];
  #closing: Promise<void> | undefined;

  /** Aborts on Ctrl-C: steps in flight stop and no new one starts. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Registers what closes a resource; returns the resource's closer so callers can close it early. */
  defer(cleanup: Cleanup): () => Promise<void> {
    let done: Promise<void> | undefined;
    const once = (): Promise<void> => {
      done ??= Promise.resolve()
        .then(cleanup)
        .then(() => undefined);
      return done;
    };
    this.#cleanups.push(once);
    return once;
  }

  /** Throws the abort reason once the session has been interrupted. */
  check(): void {
    this.#controller.signal.throwIfAborted();
  }

  interrupt(): void {
    this.#controller.abort(new AbortError('interrupted'));
  }

  /** Closes everything registered, newest first; a failure to close one does not stop the rest. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const cleanup of this.#cleanups.reverse())
        await Promise.resolve()
          .then(cleanup)
          .catch(() => {});
    })();
    return this.#closing;
  }
}

/**
 * Runs `body` with a session closed when it ends however it ends. Ctrl-C interrupts the session,
 * closes what it holds and exits with 130 (128 + SIGINT), the shell's code for an interrupted
 * command, after one line on stderr.
 */
export async function withSession<T>(body: (session: LabSession) => Promise<T>): Promise<T> {
  const session = new LabSession();
  const onInterrupt = (): void => {
    session.interrupt();
    process.stderr.write('sluice: interrupted, closing servers and pools (SLUICE_ERR_ABORTED)\n');
    void session.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  try {
    return await body(session);
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    await session.close();
  }
}
