/**
 * A counting semaphore with a first-come, first-served queue of waiters. A released permit goes
 * straight to the oldest waiter, so a caller arriving later can never overtake one already queued.
 */
import { InvalidArgValueError } from './errors.js';
import { checkFunction, checkInteger } from './validate.js';
import { WaiterQueue } from './waiter-queue.js';

/**
 * Limits how many callers hold a permit at once.
 *
 * @example
 * const semaphore = new Semaphore(4);
 * const body = await semaphore.use(() => fetch(url).then((r) => r.text()));
 */
export class Semaphore {
  readonly #permits: number;
  /** Permits held now; never above `#permits`, and a handed-over permit stays counted. */
  #held = 0;
  readonly #waiters = new WaiterQueue();

  /**
   * @param permits How many callers may hold a permit at once: an integer >= 1, or Infinity.
   * @example
   * const semaphore = new Semaphore(10);
   */
  constructor(permits: number) {
    this.#permits = checkInteger('permits', permits, { min: 1, allowInfinity: true });
  }

  /** The number of permits this semaphore was built with. */
  get permits(): number {
    return this.#permits;
  }

  /** Permits free right now. */
  get available(): number {
    return this.#permits - this.#held;
  }

  /** Callers queued in `acquire()`, waiting for a permit. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Takes a permit if one is free and nobody is queued for one; never waits.
   *
   * @returns true when a permit was taken (pair it with `release()`), false otherwise.
   * @example
   * if (semaphore.tryAcquire()) {
   *   try { work(); } finally { semaphore.release(); }
   * }
   */
  tryAcquire(): boolean {
    if (this.#waiters.size > 0 || this.#held >= this.#permits) return false;
    this.#held++;
    return true;
  }

  /**
   * Waits for a permit, first come first served. Pair every resolved `acquire()` with one
   * `release()`.
   *
   * @param signal Gives up waiting when it aborts: the waiter leaves the queue (it will never
   *   take a permit) and the promise rejects with the abort reason as a coded error
   *   (`SLUICE_ERR_ABORTED` unless the reason already is a sluice error).
   * @example
   * await semaphore.acquire(AbortSignal.timeout(5_000));
   * try { await work(); } finally { semaphore.release(); }
   */
  acquire(signal?: AbortSignal): Promise<void> {
    const refused = WaiterQueue.refuse(signal);
    if (refused !== undefined) return refused;
    if (this.tryAcquire()) return Promise.resolve();
    return this.#waiters.enqueue(signal);
  }

  /**
   * Gives a permit back. It goes straight to the oldest waiter if there is one.
   *
   * @throws {InvalidArgValueError} `SLUICE_ERR_INVALID_ARG_VALUE` when no permit is held: a
   *   release without its acquire would silently raise the limit.
   * @example
   * semaphore.release();
   */
  release(): void {
    if (this.#held === 0) {
      throw new InvalidArgValueError(
        `Semaphore.release() was called with no permit held: every release() must pair with one acquire() or successful tryAcquire() (permits: ${this.#permits})`,
      );
    }
    // A permit served to a waiter changes hands without ever being free, so `#held` stays as it is.
    if (!this.#waiters.serve()) this.#held--;
  }

  /**
   * Runs `fn` holding a permit, and releases the permit however `fn` ends.
   *
   * @param signal Aborts the wait for a permit (see `acquire()`); it is not passed to `fn`.
   * @returns what `fn` returns or resolves to.
   * @example
   * const rows = await semaphore.use(() => db.query(sql));
   */
  async use<T>(fn: () => T | Promise<T>, signal?: AbortSignal): Promise<T> {
    checkFunction('fn', fn);
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
