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
  return underDeadline((deadline) => fn(deadline.signal), ms, clock, parent);
}

/**
 * A call's abort signal, made the first time something reads it. An AbortController costs about
 * 2 us to make and as much again to collect, more than the rest of a fast call's bookkeeping,
 * and most calls under a deadline neither time out nor look at their signal. Read after the
 * abort, the signal comes already aborted, with the same reason.
 */
export class LazySignal {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

/**
 * withDeadline's engine, for callers that checked their arguments: `fn` gets the deadline itself
 * and reads its `signal` only if it needs one (a stage hands it on as `ctx.signal`).
 */
export function underDeadline<T>(
  fn: (deadline: LazySignal) => T | PromiseLike<T>,
  ms: number,
  clock: Clock,
  parent?: AbortSignal,
): Promise<T> {
  if (parent?.aborted) return Promise.reject(abortReason(parent));
  const deadline = new LazySignal();
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
      deadline.abort(error);
      if (finish()) reject(error);
    }, ms);
    // Every call of a stage with a timeout runs under the run's one signal: with thousands in
    // flight, a listener each made every addEventListener walk the others (see abort-watch.ts).
    const unwatch =
      parent === undefined
        ? undefined
        : watchAbort(parent, () => {
            const reason = abortReason(parent);
            deadline.abort(reason);
            if (finish()) reject(reason);
          });
    let result: T | PromiseLike<T>;
    try {
      result = fn(deadline);
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
