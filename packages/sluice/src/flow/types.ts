import type { RateLimiter } from '../core/rate-limiter.js';
import type { RetryOptions } from '../core/retry.js';
import type { AdaptiveConcurrency } from '../limit/adaptive-options.js';

/** What a stage's function receives besides the item. */
export interface StageContext {
  /** Position of the item in the stage's input, counted from 0. */
  readonly index: number;
  /**
   * Aborts when the run stops (failure, abort, early exit) or the per-item `timeout` passes.
   * Pass it on to fetch, database drivers and child processes so abandoned work stops too.
   * A getter, made when first read: `{ ...ctx }` does not copy it; `ctx.signal`, `const { signal }
   * = ctx` and passing `ctx` as fetch's options do.
   */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
}

/** Receives an item whose processing failed for good, instead of failing the run. */
export type DeadLetterHandler<T> = (
  item: T,
  error: unknown,
  info: { stage: string; index: number },
) => unknown;

/** How a stage reacts to an item that failed for good (after its retries). */
export type ErrorPolicy<T> = 'fail' | 'skip' | DeadLetterHandler<T>;

/** Token-bucket options for a stage; `key` gives each key (say, each host) its own bucket. */
export interface StageRateLimit<T> {
  /** Tokens per second. Give this or `limit`. */
  perSecond?: number;
  /** Tokens per `intervalMs`. */
  limit?: number;
  /** @default 1000 */
  intervalMs?: number;
  /** Bucket size: how many calls may start at once after a quiet spell. @default the rate per interval */
  burst?: number;
  /** @example key: (url) => new URL(url).host */
  key?: (item: T) => unknown;
}

export interface StageOptions<T> {
  /** Shown in the report and in errors. @default the function's name, else `<kind>#<position>` */
  name?: string;
  /**
   * How many items the stage works on at once: a number, or `'adaptive'` to find it from the
   * latency and errors of the calls (options: `{ adaptive: true, min, max, initial, key }` or
   * `adaptive({...})`).
   * @default 1
   * @example concurrency: 'adaptive'
   */
  concurrency?: number | 'adaptive' | AdaptiveConcurrency<T>;
  /**
   * Emit results in input order (true) or as they finish (false). Ordered output holds finished
   * items back behind a slow one, within a bounded window; unordered keeps every slot busy.
   * @default true
   */
  ordered?: boolean;
  /**
   * Capacity of the stage's output buffer, in items.
   * @default 4 x concurrency, at least 16 and at most 4,096; for an adaptive stage, 4 x its initial limit
   */
  buffer?: number;
  /** Retry failed attempts with exponential backoff and full jitter; a number is `{ attempts }`. */
  retry?: RetryOptions | number;
  /** Milliseconds each attempt may take; the function's `ctx.signal` aborts at the deadline. */
  timeout?: number;
  /** Start at most this many calls per interval: the options of a token bucket, or a shared RateLimiter. */
  rateLimit?: StageRateLimit<T> | RateLimiter;
  /**
   * What to do with an item that failed for good: fail the run, skip it (counted in the report), or
   * hand it to a dead-letter handler.
   * @default 'fail'
   */
  onError?: ErrorPolicy<T>;
}

/** The options of a `map(cpu(url))` stage: the pool sets its own concurrency. */
export type CpuStageOptions<T> = Pick<StageOptions<T>, 'name' | 'ordered' | 'retry' | 'onError'> & {
  /**
   * Capacity of the stage's output buffer, in items. Results come back from the workers in
   * batches of hundreds or thousands, and a 16-slot buffer handed them on 16 at a time: about a
   * tenth of the throughput of small tasks went into those hand-offs.
   * @default 256
   */
  buffer?: number;
  /**
   * Milliseconds each item may run in its worker. The task's `ctx.signal` aborts at the deadline;
   * a task that ignores it past the pool's grace period has its worker replaced.
   */
  timeout?: number;
};

export interface BatchOptions {
  /** Items per batch. */
  size: number;
  /** Emit a partial batch once its first item has waited this long. @default no limit */
  maxWaitMs?: number;
  name?: string;
  /** @default 16 */
  buffer?: number;
}
