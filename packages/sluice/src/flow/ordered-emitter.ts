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

/** Marks a slot of the parking ring that holds no result. */
const VACANT: unique symbol = Symbol('vacant');

/** Slots the parking ring starts with; it doubles when a result is handed in further past the head. */
const FIRST_RING_SIZE = 16;

/** What a stage does to let one result out: undefined when done at once, else a promise of done. */
export type Release<V> = (value: V) => PromiseLike<unknown> | undefined;

export class OrderedEmitter<V> {
  readonly #release: Release<V>;
  readonly #run: RunControl;
  #window: number;
  readonly #maxWindow: number;
  /** The number of the next result to release. */
  #head = 0;
  /**
   * Results waiting for their turn: result `seq` in slot `seq & #mask`, a power-of-two ring that
   * covers the numbers from the head on. Ordered stages over IO park most results (calls finish
   * out of order), so this is a hot path: an array slot where a Map hashed and rehashed.
   */
  #ring: (V | typeof VACANT)[] = new Array(FIRST_RING_SIZE).fill(VACANT);
  #mask = FIRST_RING_SIZE - 1;
  #parkedCount = 0;
  /** True while the head's release waits. */
  #waiting = false;
  /**
   * What takers waiting for the head to move await: one promise they all share, made by the first
   * and resolved (with true: carry on) when the head moves. A promise and a closure per waiting
   * taker cost more than the wait: an async reader's lanes wait here about once per four items.
   */
  #advanced: Promise<true> | undefined = undefined;
  #advance: ((carryOn: true) => void) | undefined = undefined;
  /** Callers of drained() waiting for the last parked result to go. */
  #drainedWaiters: (() => void)[] = [];

  /**
   * @param window how far past the head a taker may take (see `hasRoom`).
   * @param run a release that rejects fails the run; a stopped run releases nothing more.
   * @param maxWindow how far `widen` may take the window
   */
  constructor(release: Release<V>, window: number, run: RunControl, maxWindow = window) {
    this.#release = release;
    this.#window = window;
    this.#maxWindow = Math.max(window, maxWindow);
    this.#run = run;
  }

  /**
   * Doubles the window (up to its most) when what holds the head is a result still to come, not
   * a full output: one slow call at the head otherwise stops every taker once the window's worth
   * behind it is done. With calls of 2 to 5 ms and one in fifty of 100 ms, a window of twice 64
   * lanes ran an ordered stage at a seventh of its speed unordered. A full output holds the head
   * for a reason a wider window would only park more results behind. True if it widened.
   */
  widen(): boolean {
    if (this.#waiting || this.#window >= this.#maxWindow) return false;
    this.#window = Math.min(this.#maxWindow, this.#window * 2);
    return true;
  }

  /** The number of the next result to release: every result before it is out. */
  get head(): number {
    return this.#head;
  }

  /** True when number `next` may be taken: it is less than `window` places past the head. */
  hasRoom(next: number): boolean {
    return next - this.#head < this.#window;
  }

  /**
   * Resolves with true once the head moves (or `wake()` is called): a taker then checks `hasRoom`
   * again. Every taker waiting at once gets the same promise.
   */
  advanced(): Promise<true> {
    this.#advanced ??= new Promise<true>((resolve) => {
      this.#advance = resolve;
    });
    return this.#advanced;
  }

  /** Wakes every taker waiting in `advanced()`, as when the run stops and they must leave. */
  readonly wake = (): void => {
    const advance = this.#advance;
    if (advance === undefined) return;
    this.#advanced = undefined;
    this.#advance = undefined;
    advance(true);
  };

  /** Hands in result number `seq`: released now if it is the head's, with what is parked behind it; else parked. */
  put(seq: number, value: V): void {
    if (seq !== this.#head) {
      this.#park(seq, value);
      return;
    }
    const pending = this.#release(value);
    if (pending !== undefined) {
      this.#wait(pending);
      return;
    }
    this.#head = seq + 1;
    if (this.#parkedCount > 0) this.#flush();
    else this.wake();
  }

  #park(seq: number, value: V): void {
    if (seq - this.#head >= this.#ring.length) this.#grow(seq - this.#head + 1);
    this.#ring[seq & this.#mask] = value;
    this.#parkedCount++;
  }

  /** Makes the ring hold at least `span` numbers from the head on, keeping each result's number. */
  #grow(span: number): void {
    const old = this.#ring;
    const oldMask = this.#mask;
    let size = old.length * 2;
    while (size < span) size *= 2;
    const ring = new Array<V | typeof VACANT>(size).fill(VACANT);
    const mask = size - 1;
    for (let seq = this.#head; seq < this.#head + old.length; seq++)
      ring[seq & mask] = old[seq & oldMask] as V;
    this.#ring = ring;
    this.#mask = mask;
  }

  /**
   * True when result `seq` may go out now, with nothing before it outstanding or parked: its owner
   * may then let it out itself and call `released()`. That is the common case, and the hot path of
   * a lane stage, where a call into `put` and through `release` per item measurably cost.
   */
  isNext(seq: number): boolean {
    return seq === this.#head && this.#parkedCount === 0;
  }

  /** The head's owner let it out itself (see `isNext`): the head moves on. */
  released(): void {
    this.#head++;
    if (this.#advance !== undefined) this.wake();
  }

  /** Resolves once nothing is parked or waiting to go out, or the run stopped and nothing waits. */
  drained(): Promise<void> {
    if (this.#isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.#drainedWaiters.push(resolve));
  }

  #isDrained(): boolean {
    return !this.#waiting && (this.#parkedCount === 0 || this.#run.stopped);
  }

  /** Releases parked results from the head on, until one is missing or has to wait. */
  #flush(): void {
    while (!this.#waiting && !this.#run.stopped && this.#parkedCount > 0) {
      const head = this.#head;
      const slot = head & this.#mask;
      const value = this.#ring[slot] as V | typeof VACANT;
      if (value === VACANT) break;
      this.#ring[slot] = VACANT;
      this.#parkedCount--;
      const pending = this.#release(value);
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
