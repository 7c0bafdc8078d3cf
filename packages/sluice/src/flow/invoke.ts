/**
 * Wraps a stage's function in its policies: rate limit, then deadline, then the call, retried
 * with backoff. With no policy set the function is called directly: the common case pays nothing.
 */
import type { Clock } from '../core/clock.js';
import { DeadlineQueue } from '../core/deadline.js';
import { readableThrown } from '../core/errors.js';
import type { LazySignal } from '../core/lazy-signal.js';
import { RateLimiter } from '../core/rate-limiter.js';
import { type RetrySchedule, retryAfterMs, retrying } from '../core/retry.js';
import { AdaptiveLimiter } from '../limit/adaptive-limiter.js';
import type { StageStats } from './report.js';
import type { LaneSpec } from './stage-spec.js';
import type { StageContext } from './types.js';

/**
 * Calls the stage's function for one item. An item that failed for good rejects with a
 * `RetriesExhausted` holding the last error and the attempts it took.
 */
export type Invoker = (item: unknown, index: number) => unknown;

/** Where a call's signal comes from when it is read: the run (whose signal is made lazily too) or a deadline. */
export interface SignalSource {
  readonly signal: AbortSignal;
}

/**
 * @param run the run's signal, made only when something reads it: a call that reads `ctx.signal`,
 *   a wait for a turn, a retry's backoff. A stage's deadlines watch it without making it.
 */
export function makeInvoker(spec: LaneSpec, stats: StageStats, run: LazySignal, clock: Clock): Invoker {
  const { fn, retry, timeout } = spec;
  const limiter =
    spec.rateLimit === undefined
      ? undefined
      : spec.rateLimit instanceof RateLimiter
        ? spec.rateLimit
        : new RateLimiter({ ...withoutKey(spec.rateLimit), clock });
  const keyOf = spec.rateLimit instanceof RateLimiter ? undefined : spec.rateLimit?.key;

  const gate = spec.adaptive === undefined ? undefined : new AdaptiveLimiter(spec.adaptive, clock);
  stats.limit = gate;

  if (!hasPolicies(spec)) return (item, index) => fn(item, new CallContext(index, 1, run));

  // Each policy below wraps the call only when the stage has it: every layer is a promise and a
  // turn per call, and a fast call under one policy should not pay for the others.

  /**
   * The call, under its deadline when the stage has a timeout; the deadlines count each call they
   * end (a call's own SLUICE_ERR_TIMEOUT, from a deadline of its own, is not the stage's). They
   * are set up by the first call rather than with the run.
   */
  let deadlines: DeadlineQueue | undefined;
  const call =
    timeout === undefined
      ? (item: unknown, index: number, attempt: number): unknown =>
          fn(item, new CallContext(index, attempt, run))
      : (item: unknown, index: number, attempt: number): Promise<unknown> =>
          (deadlines ??= new DeadlineQueue(timeout, clock, run, () => {
            stats.timeouts++;
          })).run((deadline) => fn(item, new CallContext(index, attempt, deadline)));

  /** Each attempt takes a turn under the adaptive limit and reports back; backoff waits hold none. */
  const attemptOnce =
    gate === undefined
      ? call
      : async (item: unknown, index: number, attempt: number): Promise<unknown> => {
          const slot = gate.slot(item);
          if (!gate.tryAcquire(slot)) await gate.acquire(slot, run.signal);
          const started = clock.now();
          try {
            const result = await call(item, index, attempt);
            gate.release(slot, started, false);
            return result;
          } catch (error) {
            gate.release(slot, started, true, error);
            throw error;
          }
        };

  /** One attempt under the rate limit; a server's pause is kept for every call to it. */
  const attemptLimited =
    limiter === undefined
      ? attemptOnce
      : async (item: unknown, index: number, attempt: number): Promise<unknown> => {
          const key = keyOf?.(item);
          try {
            if (!limiter.tryAcquire(key)) await limiter.acquire(key, run.signal);
            return await attemptOnce(item, index, attempt);
          } catch (thrown) {
            // A server that asked for a pause asked it of every call to it, not just this one.
            const pause = retryAfterMs(readableThrown(thrown));
            if (pause !== undefined) limiter.penalize(key, pause);
            throw thrown;
          }
        };

  if (retry === undefined) return (item, index) => attemptLimited(item, index, 1);
  const schedule = new StageRetrySchedule(retry, clock, run, () => {
    stats.retries++;
    // Between attempts the item holds no call: the stage may run another in its place. Told
    // a microtask later: an attempt that throws synchronously reaches here inside the stage's
    // own call, and a stage that started calls from there would run them in the middle of it.
    stats.backingOff++;
    if (stats.onBackoff !== undefined) queueMicrotask(stats.onBackoff);
  });
  return (item, index) =>
    retrying((attempt) => {
      if (attempt > 1) stats.backingOff--;
      return attemptLimited(item, index, attempt);
    }, schedule);
}

/**
 * A stage's retry schedule. A class, so that `signal` (read by the retry loop only once an attempt
 * has failed) is a getter on the prototype: an object literal's getter is made with each literal,
 * and V8 makes it in the old generation, where it kept every run that made one alive until the
 * next full collection.
 */
class StageRetrySchedule implements RetrySchedule {
  readonly #run: SignalSource;

  constructor(
    readonly policy: RetrySchedule['policy'],
    readonly clock: Clock,
    run: SignalSource,
    readonly onRetry: () => void,
  ) {
    this.#run = run;
  }

  get signal(): AbortSignal {
    return this.#run.signal;
  }
}

/**
 * A call's context: its `signal` is the run's, or its deadline's, read through when first asked
 * for, so a call that never looks at it never makes one. A class, so the getter sits on the
 * prototype: an object literal with a getter costs an accessor pair per call. (`{ ...ctx }` drops
 * `signal`; reading `ctx.signal`, destructuring it or passing `ctx` as a fetch's options all see it.)
 *
 * Plain properties set in the constructor, not class fields and not a `#private` source: a class
 * with fields runs a field initializer from its constructor, and the two took 58 bytes of the
 * inlining budget of the lane that makes a context per item (docs/ARCHITECTURE.md, "The hot
 * path"); in a stage read by `for await` the budget ran out there, and every context was made
 * through V8's generic construct stub, 165 instructions an item. This constructor is 20 bytes,
 * under the size V8 inlines whatever the budget. The price is `signalSource`, an own property a
 * `{ ...ctx }` copies and `console.log(ctx)` shows.
 */
export class CallContext implements StageContext {
  declare readonly index: number;
  declare readonly attempt: number;
  /** Where `signal` comes from, read only if the function reads `signal`. */
  declare readonly signalSource: SignalSource;

  constructor(index: number, attempt: number, signalSource: SignalSource) {
    this.index = index;
    this.attempt = attempt;
    this.signalSource = signalSource;
  }

  get signal(): AbortSignal {
    return this.signalSource.signal;
  }
}

/**
 * The calls a stage may have going now (a lane stage's lanes, a last forEach's calls): its
 * concurrency or, for an adaptive stage, what its limiter can keep busy (`callers`), plus one for
 * each item waiting out a retry's backoff (it holds no call), up to twice the concurrency (an
 * adaptive stage's `max`). Calls in flight stay within the concurrency or the limit.
 */
export function callsAllowed(concurrency: number, stats: StageStats): number {
  const gate = stats.limit;
  const base = gate === undefined ? concurrency : Math.min(concurrency, gate.callers);
  const away = stats.backingOff;
  if (away === 0) return base;
  return Math.min(base + away, gate === undefined ? 2 * concurrency : concurrency);
}

/** True when the stage's function is wrapped in anything: without a policy the invoker just calls it. */
export function hasPolicies(spec: LaneSpec): boolean {
  return (
    spec.rateLimit !== undefined ||
    spec.retry !== undefined ||
    spec.timeout !== undefined ||
    spec.adaptive !== undefined
  );
}

function withoutKey<T extends { key?: unknown }>(options: T): Omit<T, 'key'> {
  const { key: _key, ...rest } = options;
  return rest;
}
