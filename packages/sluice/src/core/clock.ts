/**
 * All time in sluice goes through a Clock, so rate limits, backoff and timeouts can be tested on
 * fake time (see `FakeClock` in `sluice/testing`) instead of wall-clock windows.
 */
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

/** The real clock: `performance.now()` and the global timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
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
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(abortReason(signal as AbortSignal));
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
