/**
 * Per-call deadlines delivered as an AbortSignal. The caller's promise settles at the deadline
 * even when the function ignores its signal, so a call that never settles cannot hang a run.
 */
import { watchAbort } from './abort-watch.js';
import type { Clock, TimerHandle } from './clock.js';
import { abortReason, TimeoutError } from './errors.js';
import { LazySignal } from './lazy-signal.js';
import { checkFunction, checkNumber } from './validate.js';

/**
 * Runs `fn` with a signal that aborts when `parent` aborts or `ms` pass (at most a millisecond
 * late, never early), whichever comes first. Rejects with a coded TimeoutError at the deadline.
 * Clears its timer either way.
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
  // A queue of one: the same deadline, timer and watch as a stage's calls get.
  return new DeadlineQueue(ms, clock, parent).run((deadline) => fn(deadline.signal));
}

/** A call waiting under a DeadlineQueue: what ends it early. */
class PendingCall {
  readonly deadline = new LazySignal();
  constructor(readonly reject: (error: unknown) => void) {}
}

/** The calls that started in one millisecond (rounded up): they share a deadline. */
class Bucket {
  readonly calls = new Set<PendingCall>();
  constructor(readonly at: number) {}
}

/**
 * The deadlines of many calls of one length (a stage's `timeout`), on one timer. A timer per call
 * (a Node Timeout, its closures, a watch on the run's signal) cost a fast call about as much as
 * the rest of its bookkeeping. Calls that start in the same millisecond, rounded up, share a
 * bucket and its deadline, so a call times out at most a millisecond late and never early
 * (on a fake clock's whole milliseconds, exactly on time); buckets expire in the order they were
 * made, so one timer, armed for the oldest, serves them all. A settled call leaves its bucket at
 * once; the timer is cleared whenever no call is pending, so a finished run holds no timer open,
 * and one that hangs still times out. One watch on `parent`, held while calls are pending,
 * rejects every pending call.
 *
 * Each call still gets a signal of its own (`LazySignal`, made if read): aborting one shared
 * signal at a bucket's deadline would also abort what a call that had finished handed on (a
 * response body read by the next stage, say).
 */
export class DeadlineQueue {
  readonly #ms: number;
  readonly #clock: Clock;
  /** A run's signal is watched without being made (`LazySignal`): most calls never read theirs. */
  readonly #parent: AbortSignal | LazySignal | undefined;
  /** Buckets oldest first, from `#head` on. */
  #buckets: Bucket[] = [];
  #head = 0;
  #pending = 0;
  #timer: TimerHandle | undefined;
  /** Stops the watch on `parent`: held only while a call is pending, so a long-lived parent keeps nothing. */
  #unwatch: (() => void) | undefined;
  /** Told of each call the deadline ended (a stage counts them). */
  readonly #onTimeout: (() => void) | undefined;

  /** @param onTimeout told of each call the deadline ends, as it ends it */
  constructor(ms: number, clock: Clock, parent?: AbortSignal | LazySignal, onTimeout?: () => void) {
    this.#ms = ms;
    this.#clock = clock;
    this.#parent = parent;
    this.#onTimeout = onTimeout;
  }

  /** Runs `fn` under the deadline: rejects with a coded TimeoutError at it, or with `parent`'s reason. */
  run<T>(fn: (deadline: LazySignal) => T | PromiseLike<T>): Promise<T> {
    const parent = this.#parent;
    if (parent?.aborted) return Promise.reject(abortReason(parent));
    const bucket = this.#bucketFor(Math.ceil(this.#clock.now()));
    return new Promise<T>((resolve, reject) => {
      const call = new PendingCall(reject);
      bucket.calls.add(call);
      this.#pending++;
      let result: T | PromiseLike<T>;
      try {
        result = fn(call.deadline);
      } catch (error) {
        if (this.#leave(bucket, call)) reject(error);
        return;
      }
      Promise.resolve(result).then(
        (value) => {
          if (this.#leave(bucket, call)) resolve(value);
        },
        (error: unknown) => {
          if (this.#leave(bucket, call)) reject(error);
        },
      );
    });
  }

  /** The bucket of calls starting at `at`: the newest, or a new one. */
  #bucketFor(at: number): Bucket {
    const newest = this.#buckets[this.#buckets.length - 1];
    if (newest !== undefined && newest.at === at) return newest;
    const bucket = new Bucket(at);
    this.#buckets.push(bucket);
    if (this.#timer === undefined) this.#arm();
    if (this.#unwatch === undefined && this.#parent !== undefined)
      this.#unwatch = watchAbort(this.#parent, this.#abortAll);
    return bucket;
  }

  /** A call settled: true if it was still pending (it had not timed out or been aborted). */
  #leave(bucket: Bucket, call: PendingCall): boolean {
    if (!bucket.calls.delete(call)) return false;
    if (--this.#pending === 0) this.#disarm();
    return true;
  }

  /** Sets the timer for the oldest bucket's deadline. */
  #arm(): void {
    const oldest = this.#buckets[this.#head];
    if (oldest === undefined) return;
    this.#timer = this.#clock.setTimeout(this.#expire, Math.max(0, oldest.at + this.#ms - this.#clock.now()));
  }

  /** No call is pending: no timer, no watch, no buckets. */
  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#buckets = [];
    this.#head = 0;
  }

  /** Times out every call of every bucket whose deadline has come, then waits for the next. */
  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = this.#clock.now();
    const buckets = this.#buckets;
    while (this.#head < buckets.length) {
      const bucket = buckets[this.#head] as Bucket;
      if (bucket.at + this.#ms > now) break;
      buckets[this.#head++] = undefined as unknown as Bucket;
      for (const call of bucket.calls) {
        const error = new TimeoutError(`Timed out after ${this.#ms} ms`);
        this.#pending--;
        call.deadline.abort(error);
        call.reject(error);
        this.#onTimeout?.();
      }
      bucket.calls.clear();
    }
    if (this.#head === buckets.length) {
      this.#buckets = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > buckets.length) {
      this.#buckets = buckets.slice(this.#head);
      this.#head = 0;
    }
    if (this.#pending > 0) this.#arm();
    else this.#disarm();
  };

  readonly #abortAll = (): void => {
    const reason = abortReason(this.#parent as AbortSignal | LazySignal);
    for (let i = this.#head; i < this.#buckets.length; i++) {
      const bucket = this.#buckets[i] as Bucket;
      for (const call of bucket.calls) {
        call.deadline.abort(reason);
        call.reject(reason);
      }
      bucket.calls.clear();
    }
    this.#pending = 0;
    this.#disarm();
  };
}
