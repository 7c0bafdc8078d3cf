/**
 * Wraps a stage's function in its policies: rate limit, then deadline, then the call, retried
 * with backoff. With no policy set the function is called directly: the common case pays nothing.
 */
import type { Clock } from '../core/clock.js';
import { withDeadline } from '../core/deadline.js';
import { isSluiceError, readableThrown } from '../core/errors.js';
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

  if (!hasPolicies(spec)) return (item, index) => fn(item, { index, signal, attempt: 1 });

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

  /** One attempt under the rate limit; a failed one is counted, and a server's pause is kept. */
  const attemptLimited = async (item: unknown, index: number, attempt: number, key: unknown) => {
    try {
      if (limiter !== undefined && !limiter.tryAcquire(key)) await limiter.acquire(key, signal);
      return await attemptOnce(item, index, attempt);
    } catch (thrown) {
      const error = readableThrown(thrown);
      if (isSluiceError(error, 'SLUICE_ERR_TIMEOUT')) stats.timeouts++;
      // A server that asked for a pause asked it of every call to it, not just this one.
      const pause = limiter === undefined ? undefined : retryAfterMs(error);
      if (pause !== undefined) limiter?.penalize(key, pause);
      throw error;
    }
  };

  const schedule: RetrySchedule = {
    policy: retry,
    clock,
    signal,
    onRetry: () => {
      stats.retries++;
    },
  };
  return (item, index) => {
    const key = keyOf?.(item);
    return retrying((attempt) => attemptLimited(item, index, attempt, key), schedule);
  };
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
