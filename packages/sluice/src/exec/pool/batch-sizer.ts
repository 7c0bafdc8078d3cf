/**
 * Chooses how many items travel in one message. A message costs tens of microseconds each way
 * (clone, post, wake-up); a 3 us task sent alone spends most of its time in transit, while a 4 ms
 * task batched by the hundred would leave all but one worker idle. So the pool measures how long
 * an item keeps a worker busy and sizes batches to about TARGET_BATCH_MS of work: thousands of
 * tiny items per message, one large item per message.
 */

/** Work per message: long enough to dwarf the messaging cost, short enough to spread and cancel promptly. */
export const TARGET_BATCH_MS = 2;
export const MAX_BATCH_SIZE = 4096;
/** Weight of the newest measurement: tasks drift (caches warm, inputs change) and the size follows. */
const SMOOTHING = 0.3;
/**
 * Batches during which a faster measurement replaces the estimate outright. A cold worker's first
 * items run in the interpreter, many times slower than once its JIT has compiled the task; smoothed,
 * that first look kept batches small for a dozen round trips, each a hand-off through the main
 * thread (about 20 of them before a cold pool sent batches of its steady size).
 */
export const WARMUP_BATCHES = 16;

export class BatchSizer {
  /** Smoothed milliseconds per item; undefined until the first batch came back. */
  #perItemMs: number | undefined;
  #recorded = 0;
  readonly #max: number;

  constructor(max = MAX_BATCH_SIZE) {
    this.#max = max;
  }

  /** Records a batch of `count` items that kept a worker busy for `busyMs`. */
  record(count: number, busyMs: number): void {
    if (count <= 0) return;
    const perItem = busyMs / count;
    const estimate = this.#perItemMs;
    const warming = this.#recorded++ < WARMUP_BATCHES;
    this.#perItemMs =
      estimate === undefined || (warming && perItem < estimate)
        ? perItem
        : estimate + SMOOTHING * (perItem - estimate);
  }

  /** Items for the next message. One until something is known: a large task must never be batched blind. */
  get size(): number {
    const perItem = this.#perItemMs;
    if (perItem === undefined) return 1;
    if (perItem <= 0) return this.#max;
    return Math.max(1, Math.min(this.#max, Math.floor(TARGET_BATCH_MS / perItem)));
  }

  /** Smoothed busy milliseconds per item, for reports. */
  get perItemMs(): number | undefined {
    return this.#perItemMs;
  }
}
