/**
 * Wraps a stage's function in its policies: rate limit, then deadline, then the call, retried
 * with backoff. With no policy set the function is called directly: the common case pays nothing.
 */
import { type Clock, sleep } from '../core/clock.js';
import { withDeadline } from '../core/deadline.js';
import { isSluiceError, readableThrown } from '../core/errors.js';
import { RateLimiter } from '../core/rate-limiter.js';
import { nextDelay, retryAfterMs } from '../core/retry.js';
import { AdaptiveLimiter } from '../limit/adaptive-limiter.js';
import type { StageStats } from './report.js';
import type { LaneSpec } from './stage-spec.js';
import type { StageContext } from './types.js';

/** Thrown by an invoker when an item failed for good, with the attempts it took. */
export class ItemFailure {
  constructor(
    readonly error: unknown,
    readonly attempts: number,
  ) {}
}

export type Invoker = (item: unknown, index: number) => unknown;

export function makeInvoker(spec: LaneSpec, stats: StageStats, signal: AbortSignal, clock: Clock): Invoker {
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

  if (limiter === undefined && retry === undefined && timeout === undefined && gate === undefined) {
    return (item, index) => fn(item, { index, signal, attempt: 1 });
  }

  const call = (item: unknown, index: number, attempt: number): unknown => {
    if (timeout === undefined) return fn(item, { index, signal, attempt });
    return withDeadline(
      (deadline) => fn(item, { index, signal: deadline, attempt } satisfies StageContext),
      timeout,
      clock,
      signal,
    );
  };

  /** Each attempt takes a turn under the adaptive limit and reports back; backoff waits hold none. */
  const attemptOnce =
    gate === undefined
      ? call
      : async (item: unknown, index: number, attempt: number): Promise<unknown> => {
          const slot = gate.slot(item);
          if (!gate.tryAcquire(slot)) await gate.acquire(slot, signal);
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

  return async (item, index) => {
    const key = keyOf?.(item);
    for (let attempt = 1; ; attempt++) {
      try {
        if (limiter !== undefined && !limiter.tryAcquire(key)) await limiter.acquire(key, signal);
        return await attemptOnce(item, index, attempt);
      } catch (thrown) {
        const error = readableThrown(thrown);
        if (isSluiceError(error, 'SLUICE_ERR_TIMEOUT')) stats.timeouts++;
        const delay = retry === undefined || signal.aborted ? undefined : nextDelay(retry, error, attempt);
        if (delay === undefined) throw new ItemFailure(error, attempt);
        // A server that asked for a pause asked it of every call to it, not just this one.
        const pause = retryAfterMs(error);
        if (pause !== undefined && limiter !== undefined) limiter.penalize(key, pause);
        stats.retries++;
        retry?.onRetry?.(error, attempt, delay);
        await sleep(clock, delay, signal);
      }
    }
  };
}

function withoutKey<T extends { key?: unknown }>(options: T): Omit<T, 'key'> {
  const { key: _key, ...rest } = options;
  return rest;
}
