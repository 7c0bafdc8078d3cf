/**
 * All time in sluice goes through a Clock, so rate limits, backoff and timeouts can be tested on
 * fake time (see `FakeClock` in `sluice/testing`) instead of wall-clock windows.
 */
import { watchAbort } from './abort-watch.js';
import { abortReason } from './errors.js';
import { checkNumber } from './validate.js';

/** An opaque timer handle, whatever the clock returns from `setTimeout`. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds on a monotonic scale; only differences are meaningful. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The longest wait one Node timer holds: past it, Node fires after 1 ms and warns
 * (TimeoutOverflowWarning). Longer waits are chained from timers of at most this length.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A wait longer than one timer can hold: a chain of timers, so it is one handle to clear or unref. */
class LongTimer {
  #timer: NodeJS.Timeout;
  #refed = true;

  constructor(callback: () => void, ms: number) {
    const due = performance.now() + ms;
    const arm = (): NodeJS.Timeout => {
      const left = due - performance.now();
      const timer =
        left > MAX_TIMER_MS
          ? setTimeout(() => (this.#timer = arm()), MAX_TIMER_MS)
          : setTimeout(callback, left);
      if (!this.#refed) timer.unref();
      return timer;
    };
    this.#timer = arm();
  }

  unref(): this {
    this.#refed = false;
    this.#timer.unref();
    return this;
  }

  ref(): this {
    this.#refed = true;
    this.#timer.ref();
    return this;
  }

  hasRef(): boolean {
    return this.#refed;
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * `setTimeout` for any finite wait: up to MAX_TIMER_MS a plain Node timer, beyond it a chain, so
 * a 30-day timeout waits 30 days instead of firing at once.
 */
export function setLongTimeout(callback: () => void, ms: number): NodeJS.Timeout | LongTimer {
  return ms > MAX_TIMER_MS ? new LongTimer(callback, ms) : setTimeout(callback, ms);
}

/** Clears a handle from `setLongTimeout`. */
export function clearLongTimeout(handle: unknown): void {
  if (handle instanceof LongTimer) handle.clear();
  else clearTimeout(handle as NodeJS.Timeout);
}

/** The real clock: `performance.now()` and the global timers, chained for waits past MAX_TIMER_MS. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: setLongTimeout,
  clearTimeout: clearLongTimeout,
};

/**
 * Resolves after `ms` on `clock`. Rejects with the signal's reason (as a coded error) when the
 * signal aborts first, and clears its timer either way, so an aborted wait leaves nothing behind.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  try {
    checkNumber('ms', ms);
  } catch (error) {
    return Promise.reject(error);
  }
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const handle = clock.setTimeout(() => {
      unwatch?.();
      resolve();
    }, ms);
    // Every retry's backoff of a run waits under the run's one signal: one listener for all.
    const unwatch =
      signal === undefined
        ? undefined
        : watchAbort(signal, () => {
            clock.clearTimeout(handle);
            reject(abortReason(signal));
          });
  });
}
