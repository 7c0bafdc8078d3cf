/**
 * The bound on a remote stage's items published and not yet answered (`maxInFlight`). The work
 * stream's message cap (discard new) is only the backstop: a publish the server refuses is retried,
 * so the coordinator must not publish past what the stream holds in the first place.
 *
 * Callers wait in `take` for room; every answer (or abandoned item) gives room back with `release`,
 * which wakes the waiters to check again. A batch larger than the whole bound goes alone, when
 * nothing else is in flight, rather than never.
 */
import { AbortError } from 'sluice';

export class InFlightWindow {
  readonly #max: number;
  #inFlight = 0;
  #peak = 0;
  /** Wakes `take` calls waiting for room, in order. */
  #waiters: (() => void)[] = [];
  #closedBy: Error | undefined;

  constructor(max: number) {
    this.#max = max;
  }

  /** Items published and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The most items in flight at once so far. */
  get peak(): number {
    return this.#peak;
  }

  /** Waits until `count` more items fit, then counts them in; rejects when `signal` aborts or the window closes. */
  async take(count: number, signal: AbortSignal | undefined): Promise<void> {
    while (this.#inFlight > 0 && this.#inFlight + count > this.#max) {
      if (this.#closedBy !== undefined) throw this.#closedBy;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(abortError(signal as AbortSignal));
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    if (this.#closedBy !== undefined) throw this.#closedBy;
    this.#inFlight += count;
    if (this.#inFlight > this.#peak) this.#peak = this.#inFlight;
  }

  /** `count` items left flight (answered, given up on, or never published). */
  release(count: number): void {
    this.#inFlight -= count;
    this.#wakeAll();
  }

  /** Every waiting and later `take` rejects with `error`. */
  close(error: Error): void {
    this.#closedBy ??= error;
    this.#wakeAll();
  }

  #wakeAll(): void {
    if (this.#waiters.length > 0) for (const wake of this.#waiters.splice(0)) wake();
  }
}

/** The signal's own coded reason when it has one (a sluice error), else a SLUICE_ERR_ABORTED around it. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error && typeof (reason as { code?: unknown }).code === 'string'
    ? reason
    : new AbortError('The operation was aborted', { cause: reason });
}
