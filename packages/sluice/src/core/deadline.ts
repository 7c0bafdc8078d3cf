/**
 * Per-call deadlines delivered as an AbortSignal. The caller's promise settles at the deadline
 * even when the function ignores its signal, so a call that never settles cannot hang a run.
 */
import { watchAbort } from './abort-watch.js';
import type { Clock } from './clock.js';
import { abortReason, TimeoutError } from './errors.js';
import { checkFunction, checkNumber } from './validate.js';

/**
 * Runs `fn` with a signal that aborts when `parent` aborts or `ms` pass, whichever comes first.
 * Rejects with a coded TimeoutError at the deadline. Clears its timer and listener either way.
 */
export function withDeadline<T>(
  fn: (signal: AbortSignal) => T | Promise<T>,
  ms: number,
  clock: Clock,
  parent?: AbortSignal,
): Promise<T> {
  try {
    checkNumber('ms', ms, { exclusive: true });
    checkFunction('fn', fn);
  } catch (error) {
    return Promise.reject(error);
  }
  if (parent?.aborted) return Promise.reject(abortReason(parent));
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clock.clearTimeout(timer);
      unwatch?.();
      return true;
    };
    const timer = clock.setTimeout(() => {
      const error = new TimeoutError(`Timed out after ${ms} ms`);
      controller.abort(error);
      if (finish()) reject(error);
    }, ms);
    // Every call of a stage with a timeout runs under the run's one signal: with thousands in
    // flight, a listener each made every addEventListener walk the others (see abort-watch.ts).
    const unwatch =
      parent === undefined
        ? undefined
        : watchAbort(parent, () => {
            const reason = abortReason(parent);
            controller.abort(reason);
            if (finish()) reject(reason);
          });
    let result: T | Promise<T>;
    try {
      result = fn(controller.signal);
    } catch (error) {
      if (finish()) reject(error);
      return;
    }
    Promise.resolve(result).then(
      (value) => {
        if (finish()) resolve(value);
      },
      (error: unknown) => {
        if (finish()) reject(error);
      },
    );
  });
}
