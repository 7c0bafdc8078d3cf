/**
 * Releases numbered results in number order: the one place an ordered stage's output is put
 * back in order. A result whose number is the head is released at once; any other is parked
 * until every result before it is out. Lane stages number items, a cpu() stage numbers batches.
 *
 * Releasing is the stage's own business (push a value, push a batch, flush a flatMap item's
 * queue), done by the `release` function it gives. It returns undefined when the result went out
 * at once, which is the common case and costs no promise, or a promise when it has to wait (the
 * output is full): results behind it stay parked until it settles, so none overtakes another,
 * and the head moves past a result only once it is out.
 *
 * Takers bound what is parked with `hasRoom` and wait with `advanced()`: a slow result then holds
 * back at most a window's worth of the results behind it.
 */
import type { RunControl } from './run-control.js';

/** What a stage does to let one result out: undefined when done at once, else a promise of done. */
export type Release<V> = (value: V) => PromiseLike<unknown> | undefined;

export class OrderedEmitter<V> {
  readonly #release: Release<V>;
  readonly #run: RunControl;
  readonly #window: number;
  /** The number of the next result to release. */
  #head = 0;
  /** Results waiting for their turn, by number. */
  readonly #parked = new Map<number, V>();
  /** True while the head's release waits. */
  #waiting = false;
  /** Takers waiting for the head to move. */
  #roomWaiters: (() => void)[] = [];
  /** Callers of drained() waiting for the last parked result to go. */
  #drainedWaiters: (() => void)[] = [];

  /**
   * @param window how far past the head a taker may take (see `hasRoom`).
   * @param run a release that rejects fails the run; a stopped run releases nothing more.
   */
  constructor(release: Release<V>, window: number, run: RunControl) {
    this.#release = release;
    this.#window = window;
    this.#run = run;
  }

  /** The number of the next result to release: every result before it is out. */
  get head(): number {
    return this.#head;
  }

  /** True when number `next` may be taken: it is less than `window` places past the head. */
  hasRoom(next: number): boolean {
    return next - this.#head < this.#window;
  }

  /** Resolves once the head moves (or `wake()` is called): a taker then checks `hasRoom` again. */
  advanced(): Promise<void> {
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Wakes every taker waiting in `advanced()`, as when the run stops and they must leave. */
  readonly wake = (): void => {
    if (this.#roomWaiters.length > 0) for (const wake of this.#roomWaiters.splice(0)) wake();
  };

  /** Hands in result number `seq`: released now if it is the head's, with what is parked behind it; else parked. */
  put(seq: number, value: V): void {
    if (seq !== this.#head) {
      this.#parked.set(seq, value);
      return;
    }
    const pending = this.#release(value);
    if (pending !== undefined) {
      this.#wait(pending);
      return;
    }
    this.#head = seq + 1;
    if (this.#parked.size > 0) this.#flush();
    else this.wake();
  }

  /**
   * True when result `seq` may go out now, with nothing before it outstanding or parked: its owner
   * may then let it out itself and call `released()`. That is the common case, and the hot path of
   * a lane stage, where a call into `put` and through `release` per item measurably cost.
   */
  isNext(seq: number): boolean {
    return seq === this.#head && this.#parked.size === 0;
  }

  /** The head's owner let it out itself (see `isNext`): the head moves on. */
  released(): void {
    this.#head++;
    if (this.#roomWaiters.length > 0) this.wake();
  }

  /** Resolves once nothing is parked or waiting to go out, or the run stopped and nothing waits. */
  drained(): Promise<void> {
    if (this.#isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.#drainedWaiters.push(resolve));
  }

  #isDrained(): boolean {
    return !this.#waiting && (this.#parked.size === 0 || this.#run.stopped);
  }

  /** Releases parked results from the head on, until one is missing or has to wait. */
  #flush(): void {
    const parked = this.#parked;
    while (!this.#waiting && !this.#run.stopped) {
      const head = this.#head;
      const value = parked.get(head);
      if (value === undefined && !parked.has(head)) break;
      parked.delete(head);
      const pending = this.#release(value as V);
      if (pending !== undefined) {
        this.#wait(pending);
        break;
      }
      this.#head = head + 1;
    }
    this.wake();
    if (this.#drainedWaiters.length > 0 && this.#isDrained())
      for (const done of this.#drainedWaiters.splice(0)) done();
  }

  #wait(pending: PromiseLike<unknown>): void {
    this.#waiting = true;
    pending.then(
      () => {
        this.#waiting = false;
        this.#head++;
        this.#flush();
      },
      (error: unknown) => {
        // The output failed under it (the run is being torn down) or the release itself failed.
        this.#waiting = false;
        this.#run.fail(error);
        this.#flush();
      },
    );
  }
}
