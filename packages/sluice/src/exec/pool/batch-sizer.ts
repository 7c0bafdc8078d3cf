/**
 * Chooses how many items travel in one message. A message costs tens of microseconds each way
 * (clone, post, wake-up); a 3 us task sent alone spends most of its time in transit, while a 4 ms
 * task batched by the hundred would leave all but one worker idle. So the pool measures how long
 * an item keeps a worker busy and sizes batches to about TARGET_BATCH_MS of work: thousands of
 * tiny items per message, one large item per message.
 *
 * A long job's batches grow further (`sizeFor`): each message also costs the main thread a
 * hand-off (post, clone, wake-up, emitting the results) whatever its size, and on a job of a
 * million 2 us items at 2 ms a batch those hand-offs, and the garbage they leave to V8's collector
 * threads, take CPU the workers need.
 */

/** Work per message: long enough to dwarf the messaging cost, short enough to spread and cancel promptly. */
export const TARGET_BATCH_MS = 2;
export const MAX_BATCH_SIZE = 4096;
/** The most work per message a long job's batches grow to (see `sizeFor`). */
export const LONG_JOB_BATCH_MS = 10;
/**
 * A long job's batch stays at most this share of the work each worker has ahead, so the last
 * batches still spread evenly (a job of 100,000 2 us items on two workers keeps its 2 ms batches).
 */
export const BATCHES_AHEAD = 64;
/**
 * Items a pool's workers hold at most, two pieces each, once batches grow past TARGET_BATCH_MS:
 * what a cpu() stage holds at most (HELD_ITEMS), so that every worker still gets its two.
 */
export const GROWN_ITEMS_IN_FLIGHT = 16_384;

/** What `sizeFor` projects a job's length from. */
export interface JobOutlook {
  readonly workers: number;
  /** Items known to wait: queued, and what the caller said is behind them. */
  readonly aheadItems: number;
  /** Work done so far, in busy milliseconds: a job that has run long will likely run as long again. */
  readonly doneMs: number;
}

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

  /**
   * Items for the next message of a job with this outlook: `size`, or more for a long one, up to
   * LONG_JOB_BATCH_MS of work and 1/BATCHES_AHEAD of what each worker has ahead (the larger of the
   * work known to wait and the work done so far).
   */
  sizeFor(job: JobOutlook): number {
    const base = this.size;
    const perItem = this.#perItemMs;
    // An item that fills a message alone already keeps messages few: larger ones would only
    // spread the job's last items less evenly.
    if (perItem === undefined || perItem <= 0 || base <= 1) return base;
    const aheadMs = Math.max(job.aheadItems * perItem, job.doneMs) / Math.max(1, job.workers);
    const targetMs = Math.min(LONG_JOB_BATCH_MS, aheadMs / BATCHES_AHEAD);
    if (targetMs <= TARGET_BATCH_MS) return base;
    const grown = Math.min(
      this.#max,
      Math.floor(targetMs / perItem),
      Math.floor(GROWN_ITEMS_IN_FLIGHT / (2 * Math.max(1, job.workers))),
    );
    return Math.max(base, grown);
  }

  /** Smoothed busy milliseconds per item, for reports. */
  get perItemMs(): number | undefined {
    return this.#perItemMs;
  }
}
