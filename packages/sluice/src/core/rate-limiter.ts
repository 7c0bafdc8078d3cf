/**
 * Token-bucket rate limiter, optionally keyed (one bucket per host, per tenant, ...).
 *
 * Buckets start full and refill continuously. Tokens are computed lazily from the clock when a
 * bucket is touched, so an idle limiter holds no timer and costs nothing; a timer exists only for
 * a key whose callers are waiting, one per such key, set for when its oldest waiter can go.
 */
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import { InvalidArgTypeError } from './errors.js';
import { checkInteger, checkNumber, checkOptions, invalidType } from './validate.js';
import { WaiterQueue } from './waiter-queue.js';

export interface RateLimiterOptions {
  /**
   * Tokens added per second, a finite number > 0. Give this or `limit`, not both.
   * @example { perSecond: 50 }
   */
  perSecond?: number;
  /**
   * Tokens added per `intervalMs`, an integer >= 1. Give this or `perSecond`, not both.
   * @example { limit: 100, intervalMs: 60_000 } // 100 a minute
   */
  limit?: number;
  /**
   * The interval `limit` counts over, in milliseconds; only with `limit`.
   * @default 1000
   */
  intervalMs?: number;
  /**
   * Bucket capacity: how many calls may start at once after a quiet spell. An integer >= 1.
   * @default limit, or Math.max(1, Math.ceil(perSecond))
   * @example { perSecond: 10, burst: 1 } // strictly spaced, 100 ms apart
   */
  burst?: number;
  /**
   * Where time comes from; pass a `FakeClock` in tests.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * How many per-key buckets may pile up before the limiter sweeps out the idle ones (full, not
   * paused, nobody waiting). Dropping one loses nothing, since a fresh bucket starts full; this
   * is what keeps a crawler over a million hosts from holding a million buckets. An integer >= 0,
   * or Infinity to never sweep.
   * @default 10_000
   */
  maxIdleKeys?: number;
}

interface Bucket {
  /** Tokens as of `stamp`; may dip a hair below 0 from float rounding, never further. */
  tokens: number;
  stamp: number;
  /** No token is taken before this time, and until then the bucket holds at most one (see `penalize`). */
  pausedUntil: number;
  readonly waiters: WaiterQueue;
  /** Pending exactly while `waiters` is not empty: one timer per key with waiters, none otherwise. */
  timer: TimerHandle;
}

const optionKeys = ['perSecond', 'limit', 'intervalMs', 'burst', 'clock', 'maxIdleKeys'] as const;

/**
 * Token counts come from float arithmetic: a timer set for the exact moment a token is due can
 * find 0.9999999999 of one. That counts as a whole token rather than costing another timer.
 */
const EPSILON = 1e-9;
/** Likewise a due time of 333.0000000001 ms is 333 ms, not a timer for 334. */
const EPSILON_MS = 1e-6;

/**
 * A token bucket, or one per key. Callers take a token to start a call; tokens refill at a fixed
 * rate up to `burst`. Waiters for one key are served in arrival order.
 *
 * @example
 * const limiter = new RateLimiter<string>({ perSecond: 5, burst: 10 });
 * await limiter.acquire(new URL(url).host);
 * const response = await fetch(url);
 */
export class RateLimiter<K = unknown> {
  readonly #msPerToken: number;
  readonly #burst: number;
  readonly #clock: Clock;
  readonly #maxIdleKeys: number;
  readonly #buckets = new Map<K | undefined, Bucket>();
  /**
   * Bucket count that triggers the next sweep. Raised after a sweep that freed little, so a map
   * full of busy keys is not rescanned on every insert.
   */
  #sweepAt: number;

  /**
   * @throws {InvalidArgTypeError} `SLUICE_ERR_INVALID_ARG_TYPE` for an option of the wrong type,
   *   or unless exactly one of `perSecond` and `limit` is given.
   * @throws {InvalidArgValueError} `SLUICE_ERR_INVALID_ARG_VALUE` for a number out of range.
   * @throws {UnknownOptionError} `SLUICE_ERR_UNKNOWN_OPTION` for an option it does not know.
   * @example
   * new RateLimiter({ perSecond: 50, burst: 10 });
   * new RateLimiter({ limit: 600, intervalMs: 60_000 });
   */
  constructor(options: RateLimiterOptions) {
    checkOptions('RateLimiter', options, optionKeys);
    const { perSecond, limit, intervalMs, burst, clock = systemClock, maxIdleKeys = 10_000 } = options ?? {};
    if ((perSecond === undefined) === (limit === undefined)) {
      throw new InvalidArgTypeError(
        `RateLimiter needs exactly one of the "perSecond" or "limit" options. Received ${perSecond === undefined ? 'neither' : 'both'}`,
      );
    }
    if (perSecond !== undefined) {
      if (intervalMs !== undefined) {
        throw new InvalidArgTypeError(
          'The "intervalMs" option goes with "limit", not "perSecond". Received both "perSecond" and "intervalMs"',
        );
      }
      this.#msPerToken = 1000 / checkNumber('perSecond', perSecond, { exclusive: true });
      this.#burst =
        burst === undefined ? Math.max(1, Math.ceil(perSecond)) : checkInteger('burst', burst, { min: 1 });
    } else {
      const perInterval = checkInteger('limit', limit, { min: 1 });
      this.#msPerToken = checkNumber('intervalMs', intervalMs ?? 1000, { exclusive: true }) / perInterval;
      this.#burst = burst === undefined ? perInterval : checkInteger('burst', burst, { min: 1 });
    }
    this.#clock = checkClock(clock);
    this.#maxIdleKeys = checkInteger('maxIdleKeys', maxIdleKeys, { min: 0, allowInfinity: true });
    this.#sweepAt = this.#maxIdleKeys;
  }

  /**
   * Takes a token for `key` now if one is there and nobody waits for that key; never waits.
   *
   * @returns true when a token was taken.
   * @example
   * if (!limiter.tryAcquire(host)) await limiter.acquire(host);
   */
  tryAcquire(key?: K): boolean {
    const now = this.#clock.now();
    const bucket = this.#buckets.get(key) ?? this.#create(key, now);
    // A token that turns up while others wait is theirs: taking it would jump the queue.
    if (bucket.waiters.size > 0) return false;
    return this.#take(bucket, now);
  }

  /**
   * Waits for a token for `key`, first come first served per key.
   *
   * @param signal Gives up waiting when it aborts: the waiter leaves the queue (it will never
   *   take a token) and the promise rejects with the abort reason as a coded error
   *   (`SLUICE_ERR_ABORTED` unless the reason already is a sluice error).
   * @example
   * await limiter.acquire('api.example.com', AbortSignal.timeout(10_000));
   */
  acquire(key?: K, signal?: AbortSignal): Promise<void> {
    const refused = WaiterQueue.refuse(signal);
    if (refused !== undefined) return refused;
    const now = this.#clock.now();
    const bucket = this.#buckets.get(key) ?? this.#create(key, now);
    if (bucket.waiters.size === 0 && this.#take(bucket, now)) return Promise.resolve();
    const turn = bucket.waiters.enqueue(signal);
    if (bucket.waiters.size === 1) this.#schedule(bucket, now);
    return turn;
  }

  /**
   * Pauses `key`'s bucket until `ms` from now, as when a server answers 429 with Retry-After.
   * No call starts during the pause, and the bucket comes out of it holding at most one token:
   * calls resume one at a time at the configured rate, not in a burst likely to earn another
   * 429. The pause never hands out a token sooner than the rate would have. Callers already
   * waiting keep their place and are served after it.
   *
   * @param key The key to pause; `undefined` for an unkeyed limiter.
   * @param ms Milliseconds to pause, a finite number >= 0. A shorter pause never cuts a longer
   *   one short.
   * @example
   * if (response.status === 429) limiter.penalize(host, retryAfterMs);
   */
  penalize(key: K | undefined, ms: number): void {
    checkNumber('ms', ms);
    const now = this.#clock.now();
    const bucket = this.#buckets.get(key) ?? this.#create(key, now);
    this.#refill(bucket, now);
    bucket.pausedUntil = Math.max(bucket.pausedUntil, now + ms);
    bucket.tokens = Math.min(bucket.tokens, 1);
    if (bucket.waiters.size > 0) {
      this.#clock.clearTimeout(bucket.timer);
      this.#schedule(bucket, now);
    }
  }

  /**
   * How many callers wait in `acquire()` for `key`.
   * @example
   * limiter.waiting('api.example.com'); // 0
   */
  waiting(key?: K): number {
    return this.#buckets.get(key)?.waiters.size ?? 0;
  }

  /**
   * How many per-key buckets the limiter holds now, idle ones not yet swept included.
   * @example
   * limiter.size; // at most about Math.max(maxIdleKeys, 2 * keys in use)
   */
  get size(): number {
    return this.#buckets.size;
  }

  #create(key: K | undefined, now: number): Bucket {
    if (this.#buckets.size >= this.#sweepAt) this.#sweep(now);
    const bucket: Bucket = {
      tokens: this.#burst,
      stamp: now,
      pausedUntil: Number.NEGATIVE_INFINITY,
      // With its last waiter aborted the key has nobody to serve: its timer must not outlive them.
      waiters: new WaiterQueue(() => this.#clock.clearTimeout(bucket.timer)),
      timer: undefined,
    };
    this.#buckets.set(key, bucket);
    return bucket;
  }

  #refill(bucket: Bucket, now: number): void {
    let from = bucket.stamp;
    if (now <= from) return;
    let tokens = bucket.tokens;
    if (from < bucket.pausedUntil) {
      // Tokens accrue through a pause, but only up to the one the first call after it will take.
      const until = Math.min(now, bucket.pausedUntil);
      tokens = Math.min(1, tokens + (until - from) / this.#msPerToken);
      from = until;
    }
    bucket.tokens = Math.min(this.#burst, tokens + (now - from) / this.#msPerToken);
    bucket.stamp = now;
  }

  #take(bucket: Bucket, now: number): boolean {
    this.#refill(bucket, now);
    if (now < bucket.pausedUntil || bucket.tokens < 1 - EPSILON) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Sets the key's one timer for when its oldest waiter's token will be there. */
  #schedule(bucket: Bucket, now: number): void {
    this.#refill(bucket, now);
    const due = Math.max(bucket.pausedUntil, now + Math.max(0, 1 - bucket.tokens) * this.#msPerToken);
    // Whole milliseconds, as real timers keep, and never 0: should float rounding leave the token
    // short when the timer fires, re-arming for the same instant would spin forever.
    const delay = Math.max(1, Math.ceil(due - now - EPSILON_MS));
    bucket.timer = this.#clock.setTimeout(() => this.#serve(bucket, due), delay);
  }

  #serve(bucket: Bucket, due: number): void {
    // The oldest waiter takes its token as of when it was due, not when the timer got round to firing.
    // Otherwise the lateness would be lost to the burst cap (whole of it when burst is 1), and
    // the rate would drift by up to a millisecond a call.
    const { waiters } = bucket;
    if (waiters.size > 0 && this.#take(bucket, due)) waiters.serve();
    const now = this.#clock.now();
    while (waiters.size > 0 && this.#take(bucket, now)) waiters.serve();
    if (waiters.size > 0) this.#schedule(bucket, now);
  }

  /** Drops every bucket a fresh one would equal: full, not paused, nobody waiting. */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.waiters.size > 0 || now < bucket.pausedUntil) continue;
      this.#refill(bucket, now);
      if (bucket.tokens >= this.#burst - EPSILON) this.#buckets.delete(key);
    }
    // Keys still busy stay; waiting for the map to double again keeps sweeps amortised O(1).
    this.#sweepAt = Math.max(this.#maxIdleKeys, 2 * this.#buckets.size);
  }
}

function checkClock(clock: unknown): Clock {
  const c = clock as Partial<Clock> | null;
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.now !== 'function' ||
    typeof c.setTimeout !== 'function' ||
    typeof c.clearTimeout !== 'function'
  ) {
    throw invalidType('clock', 'a Clock (an object with now, setTimeout and clearTimeout)', clock);
  }
  return c as Clock;
}
