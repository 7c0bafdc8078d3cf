/**
 * The first-come, first-served queue of callers waiting for something (a permit, a token) that
 * the semaphore and the rate limiter share. Each waiter may carry an AbortSignal: an abort takes
 * it out of the queue at once, wherever it stands, and rejects its promise with a coded error.
 */
import { watchAbort } from './abort-watch.js';
import { abortReason } from './errors.js';
import { checkSignal } from './validate.js';

interface Waiter {
  readonly resolve: () => void;
  /** Set exactly when the waiter has a signal: stops watching it once the waiter is served. */
  unwatch: (() => void) | undefined;
  prev: Waiter | undefined;
  next: Waiter | undefined;
}

/**
 * Waiters in arrival order. It hands out nothing itself: the owner decides when the oldest
 * waiter may go and calls `serve()`.
 *
 * @example
 * const waiters = new WaiterQueue();
 * const turn = waiters.enqueue(signal);
 * waiters.serve(); // turn resolves
 */
export class WaiterQueue {
  /**
   * A doubly linked list, so enqueueing, serving the head and unlinking an aborted waiter from
   * the middle are all O(1), however long the queue grows.
   */
  #head: Waiter | undefined;
  #tail: Waiter | undefined;
  #size = 0;
  readonly #onEmptiedByAbort: (() => void) | undefined;

  /**
   * Rejects as `enqueue(signal)` would before queueing anything: with `SLUICE_ERR_INVALID_ARG_TYPE`
   * when `signal` is not an AbortSignal, with the abort reason when it has already aborted.
   * An owner with a fast path (a free permit, a token in the bucket) checks this first, so a
   * bad or aborted signal is refused even when the caller would not have had to wait.
   *
   * @returns the rejected promise to hand back, or undefined when the signal is fine.
   * @example
   * const refused = WaiterQueue.refuse(signal);
   * if (refused !== undefined) return refused;
   */
  static refuse(signal: AbortSignal | undefined): Promise<never> | undefined {
    if (signal === undefined) return undefined;
    try {
      checkSignal('signal', signal);
    } catch (error) {
      return Promise.reject(error);
    }
    return signal.aborted ? Promise.reject(abortReason(signal)) : undefined;
  }

  /**
   * @param onEmptiedByAbort Called when an abort takes out the last waiter, so the owner can drop
   *   whatever it kept for serving the queue (the rate limiter's per-key timer). Serving the last
   *   waiter does not call it: the owner did that itself and knows.
   * @example
   * new WaiterQueue(() => clock.clearTimeout(timer));
   */
  constructor(onEmptiedByAbort?: () => void) {
    this.#onEmptiedByAbort = onEmptiedByAbort;
  }

  /** Waiters queued now. */
  get size(): number {
    return this.#size;
  }

  /**
   * Queues a waiter at the back.
   *
   * @param signal Gives up waiting when it aborts: the waiter leaves the queue and the promise
   *   rejects with the abort reason as a coded error (`SLUICE_ERR_ABORTED` unless the reason
   *   already is a sluice error). An already-aborted signal rejects at once and queues nothing.
   * @returns a promise that resolves when `serve()` reaches this waiter.
   * @example
   * await waiters.enqueue(AbortSignal.timeout(5_000));
   */
  enqueue(signal?: AbortSignal): Promise<void> {
    const refused = WaiterQueue.refuse(signal);
    if (refused !== undefined) return refused;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, unwatch: undefined, prev: this.#tail, next: undefined };
      if (signal !== undefined) {
        // Thousands of lanes may wait under one run's signal: a listener each made every
        // addEventListener walk the others (see abort-watch.ts).
        waiter.unwatch = watchAbort(signal, () => {
          this.#unlink(waiter);
          if (this.#size === 0) this.#onEmptiedByAbort?.();
          reject(abortReason(signal));
        });
      }
      if (this.#tail === undefined) this.#head = waiter;
      else this.#tail.next = waiter;
      this.#tail = waiter;
      this.#size++;
    });
  }

  /**
   * Resolves the oldest waiter and takes it out of the queue; its signal no longer matters.
   *
   * @returns true when a waiter was served, false when the queue was empty.
   * @example
   * if (!waiters.serve()) permitsHeld--;
   */
  serve(): boolean {
    const waiter = this.#head;
    if (waiter === undefined) return false;
    this.#unlink(waiter);
    // A served waiter's signal may live on (a pipeline-wide one, say): leave no watch behind.
    waiter.unwatch?.();
    waiter.resolve();
    return true;
  }

  #unlink(waiter: Waiter): void {
    if (waiter.prev === undefined) this.#head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.#tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    this.#size--;
  }
}
