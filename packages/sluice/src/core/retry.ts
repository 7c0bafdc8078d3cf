/**
 * Retry with exponential backoff and full jitter: the wait before attempt n+1 is a random value
 * between 0 and min(maxDelayMs, baseDelayMs * 2^(n-1)). Full jitter spreads retries from many
 * callers over time instead of sending them back in synchronized waves. When the error carries a
 * server's Retry-After, that wait is used instead, because the server knows better.
 */
import { type Clock, sleep, systemClock } from './clock.js';
import { errorMessage, isSluiceError, RetryPolicyError, readableThrown } from './errors.js';
import { checkBoolean, checkFunction, checkInteger, checkNumber, checkOptions } from './validate.js';

export interface RetryOptions {
  /**
   * Attempts in all, the first one included. 1 means no retry.
   * @default 3
   */
  attempts?: number;
  /**
   * Cap of the first backoff window, doubled for every further attempt.
   * @default 100
   */
  baseDelayMs?: number;
  /**
   * The largest backoff window. A Retry-After from the server is honoured even when longer, up to
   * MAX_RETRY_AFTER_MS (5 minutes).
   * @default 10_000
   */
  maxDelayMs?: number;
  /**
   * Draw the wait uniformly from the window (true) or wait the whole window (false).
   * @default true
   */
  jitter?: boolean;
  /**
   * Decides whether an error is worth another attempt. Aborts are never retried.
   * @default () => true
   * @example retryable: (error) => error.statusCode === undefined || error.statusCode >= 500
   */
  retryable?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait, for logging or metrics. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export interface NormalizedRetry {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: boolean;
  readonly retryable: (error: unknown, attempt: number) => boolean;
  readonly onRetry: ((error: unknown, attempt: number, delayMs: number) => void) | undefined;
}

const retryKeys = ['attempts', 'baseDelayMs', 'maxDelayMs', 'jitter', 'retryable', 'onRetry'] as const;

/** Validates retry options (a number is shorthand for `{ attempts }`) and fills in the defaults. */
export function normalizeRetry(name: string, options: RetryOptions | number): NormalizedRetry {
  const given: RetryOptions = typeof options === 'number' ? { attempts: options } : options;
  checkOptions(name, given, retryKeys);
  return {
    attempts: checkInteger(`${name}.attempts`, given.attempts ?? 3, { min: 1 }),
    baseDelayMs: checkNumber(`${name}.baseDelayMs`, given.baseDelayMs ?? 100),
    maxDelayMs: checkNumber(`${name}.maxDelayMs`, given.maxDelayMs ?? 10_000),
    jitter: checkBoolean(`${name}.jitter`, given.jitter ?? true),
    retryable:
      given.retryable === undefined ? () => true : checkFunction(`${name}.retryable`, given.retryable),
    onRetry: given.onRetry === undefined ? undefined : checkFunction(`${name}.onRetry`, given.onRetry),
  };
}

/** The wait before the attempt after `attempt` (counted from 1), without Retry-After. */
export function backoffDelay(
  policy: NormalizedRetry,
  attempt: number,
  random: () => number = Math.random,
): number {
  const window = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return policy.jitter ? random() * window : window;
}

/**
 * The wait a server asked for, in ms, when the error carries one: a numeric `retryAfterMs`, a
 * `retryAfter` in seconds or as an HTTP header value, or a `retry-after` header on `headers` or
 * `response.headers` (a plain object or a Headers instance), as HTTP clients attach them.
 */
export function retryAfterMs(error: unknown, now: number = Date.now()): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  if (typeof e.retryAfterMs === 'number' && Number.isFinite(e.retryAfterMs))
    return clampRetryAfter(e.retryAfterMs);
  if (e.retryAfter !== undefined) return parseRetryAfter(e.retryAfter, now);
  const header =
    headerOf(e.headers) ?? headerOf((e.response as Record<string, unknown> | undefined)?.headers);
  return header === undefined ? undefined : parseRetryAfter(header, now);
}

function headerOf(headers: unknown): unknown {
  if (typeof headers !== 'object' || headers === null) return undefined;
  if (typeof (headers as Headers).get === 'function')
    return (headers as Headers).get('retry-after') ?? undefined;
  const record = headers as Record<string, unknown>;
  return record['retry-after'] ?? record['Retry-After'];
}

/** Parses a Retry-After value: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  if (Array.isArray(value)) return parseRetryAfter(value[0], now);
  if (typeof value === 'number') return Number.isFinite(value) ? clampRetryAfter(value * 1000) : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return clampRetryAfter(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : clampRetryAfter(date - now);
}

/**
 * The longest Retry-After sluice honours: 5 minutes. The value comes from the network, so it must
 * not set how long a run sleeps (a server's `Retry-After: 3456000` is 40 days); a longer one is
 * read as this, and the retry budget (`attempts`) decides what happens next.
 */
export const MAX_RETRY_AFTER_MS = 300_000;

function clampRetryAfter(ms: number): number {
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** True when the error is an abort, which no retry policy should retry. */
export function isAbort(error: unknown): boolean {
  return (
    isSluiceError(error, 'SLUICE_ERR_ABORTED') ||
    (error instanceof Error && error.name === 'AbortError' && !isSluiceError(error))
  );
}

/**
 * Decides the wait before the next attempt, or undefined when the error ends the retries. Throws
 * a RetryPolicyError, with the item's error as its cause, when `retryable` itself throws.
 */
export function nextDelay(
  policy: NormalizedRetry,
  error: unknown,
  attempt: number,
  random: () => number = Math.random,
): number | undefined {
  // A value that cannot be read (a revoked Proxy) is an error like any other, not a crash here.
  const readable = readableThrown(error);
  if (attempt >= policy.attempts || isAbort(readable) || !isRetryable(policy, readable, attempt))
    return undefined;
  return retryAfterMs(readable) ?? backoffDelay(policy, attempt, random);
}

function isRetryable(policy: NormalizedRetry, error: unknown, attempt: number): boolean {
  try {
    return policy.retryable(error, attempt);
  } catch (predicateError) {
    throw new RetryPolicyError(
      `retry.retryable threw on attempt ${attempt} (${errorMessage(predicateError)}); the attempt had failed with: ${errorMessage(error)}`,
      { cause: error, attempts: attempt, predicateError },
    );
  }
}

/** Thrown by `retrying` when it gives up: the last error and the attempts it took. */
export class RetriesExhausted {
  constructor(
    readonly error: unknown,
    readonly attempts: number,
  ) {}
}

/** How `retrying` runs: the policy, where it sleeps, and what its caller wants to know. */
export interface RetrySchedule {
  /** Undefined: one attempt, no retry. */
  readonly policy: NormalizedRetry | undefined;
  /** Backoff sleeps run on this clock, so a FakeClock drives them in tests. */
  readonly clock: Clock;
  /** Aborting it ends the retries: no retry starts, and a backoff sleep rejects at once. */
  readonly signal: AbortSignal | undefined;
  /** Vetoes a retry the policy would allow, for errors the caller knows a retry cannot fix. */
  readonly canRetry?: (error: unknown) => boolean;
  /** Told before each backoff sleep, before the policy's own `onRetry`. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Marks "no failure yet": `retrying` then starts with a call. */
const NO_FAILURE: unique symbol = Symbol('no failure');

/**
 * The one retry loop: calls `call(attempt)` until it succeeds or the schedule gives up, sleeping
 * the policy's backoff (or the server's Retry-After) between attempts, abortably, on the
 * schedule's clock. Gives up with a `RetriesExhausted` holding the last error. `retry()`, a lane
 * stage's invoker and a cpu() stage's per-item retries all run through it, so the options mean
 * the same wherever they are given.
 * @param failed an attempt that already failed (a cpu() batch's item): the loop starts by deciding
 *   whether to retry it.
 */
export async function retrying<T>(
  call: (attempt: number) => T | PromiseLike<T>,
  schedule: RetrySchedule,
  failed?: { readonly error: unknown; readonly attempt: number },
): Promise<T> {
  // The signal is read only once an attempt failed: a run's is made when first read.
  const { policy, clock } = schedule;
  let error: unknown = failed === undefined ? NO_FAILURE : failed.error;
  for (let attempt = failed?.attempt ?? 1; ; attempt++) {
    if (error === NO_FAILURE) {
      try {
        return await call(attempt);
      } catch (thrown) {
        error = thrown;
      }
    }
    const delay =
      policy === undefined || schedule.signal?.aborted || schedule.canRetry?.(readableThrown(error)) === false
        ? undefined
        : nextDelay(policy, error, attempt);
    if (delay === undefined) throw new RetriesExhausted(error, attempt);
    schedule.onRetry?.(error, attempt, delay);
    policy?.onRetry?.(error, attempt, delay);
    await sleep(clock, delay, schedule.signal);
    error = NO_FAILURE;
  }
}

export interface RetryCallOptions extends RetryOptions {
  signal?: AbortSignal;
  clock?: Clock;
}

/**
 * Calls `fn` until it succeeds or the policy gives up, then rejects with the last error.
 * @example
 * const body = await retry((attempt, signal) => fetchJson(url, { signal }), { attempts: 5 });
 */
export async function retry<T>(
  fn: (attempt: number, signal: AbortSignal | undefined) => T | Promise<T>,
  options: RetryCallOptions = {},
): Promise<T> {
  const { signal, clock = systemClock, ...rest } = options;
  const policy = normalizeRetry('retry', rest);
  try {
    return await retrying((attempt) => fn(attempt, signal), { policy, clock, signal });
  } catch (error) {
    throw error instanceof RetriesExhausted ? error.error : error;
  }
}
