/**
 * What a stage measures about its own calls, cheaply enough to stay on at millions of items a
 * second: a sample of its calls (see `gapAfter`). A sampled call records two durations:
 *
 * - how long the call held the event loop before it returned (the synchronous part: for a
 *   function that computes without awaiting, all of it), and
 * - how long until it settled (its latency, as a caller sees it).
 *
 * Only calls that succeeded count as evidence of what a call costs the event loop. A call that
 * fails at once (a refused connection, say) returns after the synchronous start of its attempt,
 * and a stage whose every call fails moves on to the next item at once: a stream of such starts
 * would look like a stage that computes, and earn it advice to move to cpu() that could not
 * help. Failed calls still count for latency.
 *
 * They are measurements of the real process, so they read `performance.now()` (through
 * `meter.ts`), not the run's clock: a fake clock drives timing logic, it does not make work take
 * less CPU.
 */
import { isThenable } from '../core/thenable.js';
import { Histogram } from './histogram.js';
import { meter } from './meter.js';

/**
 * Which calls are timed: all of the first 64, then one in 16 up to 4,096, then one in 1,024. A
 * timed call costs well under a microsecond (three clock reads, a reaction on its promise, a
 * histogram entry): counted by callgrind, a run's lane compiled to the same instructions an item
 * whether one call in 1,024 or one in 4,096 was timed past the 4,096th, and the no-op flow's best
 * rounds with sampling on and off stayed within about 2% of each other (bench/RESULTS.md).
 *
 * Each timed call stands for the calls since the one timed before it: its weight in every mean
 * and percentile. Counted one each, a run of 100,000 calls had 64 of its 150 samples among its
 * first 64 calls, a stage's slowest (a cold JIT, new connections): a stage of 0.1 ms calls whose
 * first 64 took 5 ms each was reported at 2.4 ms of CPU an item. Weighed, few samples would stand
 * for most of a run, hence the denser schedule: a run of 836 calls has 48 samples past its first 64
 * where it had 12, one of 100,000 has 94 past its 4,096th where it had 23.
 */
const SAMPLE_ALL_BELOW = 64;
const SPARSE_FROM = 4096;
const DENSE_GAP = 16;
const SPARSE_GAP = 1024;

/** A latency summary in milliseconds. */
export interface LatencySummary {
  /** Calls sampled. */
  readonly samples: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export type Call = (item: unknown, index: number) => unknown;

/**
 * Off only in the benchmark that measures what sampling costs (`npm run bench -- noop`); not
 * public, since a report without timings could not classify anything.
 */
export const sampling = { enabled: true };

export class StageMetrics {
  /** Latency of sampled calls, ms. */
  readonly #latency = new Histogram();
  /**
   * Time sampled calls that succeeded held the event loop, ms: its median ignores a call that was
   * merely preempted.
   */
  readonly #held = new Histogram();
  /** Sum over sampled calls that succeeded of the time they held the event loop, ms, each times its weight. */
  syncMs = 0;
  /** Sum over sampled calls of their latency, ms, each times its weight. */
  wallMs = 0;
  /** Sampled calls, whichever way they ended. */
  samples = 0;
  /** The calls the sampled ones stand for: the sum of their weights. */
  weight = 0;
  /** The last call timed, by index: a timed call's weight is the calls since (see `time`). */
  #lastTimed = -1;
  /** Sampled calls that failed: left out of `syncMs` and the held-time figures. */
  failures = 0;
  /** The longest single hold of the event loop by a call that succeeded, ms. */
  longestSyncMs = 0;
  /** Sampled calls that succeeded and held the loop at least `blockAlertMs`. */
  #longBlocks = 0;
  /**
   * Called when a second sampled call held the loop at least `blockAlertMs` (set by the run's
   * watcher): one alone may be a preemption, two are a pattern.
   */
  onLongBlock: ((ms: number) => void) | undefined = undefined;
  blockAlertMs = Number.POSITIVE_INFINITY;

  /**
   * How many calls after call `index` the next timed one comes: the sampling schedule. Stages
   * count down to it instead of testing every index, which keeps the untimed path to a decrement.
   */
  static gapAfter(index: number): number {
    if (!sampling.enabled) return Number.POSITIVE_INFINITY;
    return index + 1 < SAMPLE_ALL_BELOW ? 1 : index + 1 < SPARSE_FROM ? DENSE_GAP : SPARSE_GAP;
  }

  /**
   * Sampled calls that returned a thenable other than a promise: when they started, and how long
   * they held the loop.
   */
  readonly #pending = new Map<number, { start: number; held: number; weight: number }>();

  /**
   * Timed calls whose thenable has not settled yet: when 0, `settled` has nothing to look up. A
   * plain field: every call reads it.
   */
  pending = 0;

  /**
   * Makes call `index` timed: a clock read on each side of it. A promise it returns is watched by
   * a reaction of this method's own, registered before the stage awaits it, so it runs first, in
   * the turn the stage resumes (the stage awaits the call's own promise: awaiting one chained here
   * would make every timed item finish a tick late, and in an ordered stage the items behind it
   * would wait). Stages therefore never call `settled` for a promise, and V8 does not inline that
   * rare path into their lanes, whose budget for inlining is spent on every item's path. Any other
   * thenable is not touched twice (a query builder's `then` may run its query): its stage calls
   * `settled(index)` once it has awaited it.
   */
  time(call: Call, item: unknown, index: number): unknown {
    const weight = Math.max(1, index - this.#lastTimed);
    this.#lastTimed = index;
    const start = meter.current.now();
    let result: unknown;
    try {
      result = call(item, index);
    } catch (error) {
      const end = meter.current.now();
      this.record(end - start, end - start, true, weight);
      throw error;
    }
    const held = meter.current.now() - start;
    if (!isThenable(result)) this.record(held, held, false, weight);
    else if (result instanceof Promise) {
      result.then(
        () => this.record(held, meter.current.now() - start, false, weight),
        () => this.record(held, meter.current.now() - start, true, weight),
      );
    } else {
      this.#pending.set(index, { start, held, weight });
      this.pending++;
    }
    return result;
  }

  /** The thenable of call `index` settled (rejected, when `failed`): records it, if it was timed. */
  settled(index: number, failed = false): void {
    const pending = this.#pending.get(index);
    if (pending === undefined) return;
    this.#pending.delete(index);
    this.pending--;
    this.record(pending.held, meter.current.now() - pending.start, failed, pending.weight);
  }

  /**
   * Records one sampled call, standing for `weight` calls (also used by stages that time batches
   * themselves: a batch's latency is each of its items').
   */
  record(heldMs: number, latencyMs: number, failed = false, weight = 1): void {
    this.samples++;
    this.weight += weight;
    this.wallMs += latencyMs * weight;
    this.#latency.record(latencyMs, weight);
    if (failed) {
      this.failures++;
      return;
    }
    this.syncMs += heldMs * weight;
    this.#held.record(heldMs, weight);
    if (heldMs > this.longestSyncMs) this.longestSyncMs = heldMs;
    if (heldMs >= this.blockAlertMs && ++this.#longBlocks >= 2) this.onLongBlock?.(heldMs);
  }

  /** Sampled calls that succeeded: the ones the held-time figures are about. */
  get succeeded(): number {
    return this.samples - this.failures;
  }

  /**
   * How long a call holds the event loop, on average over every call sampled: a failed call counts
   * as holding none, so a stage's share of the loop is what its working calls cost, not how fast
   * its failures come. 0 before any call was sampled.
   */
  get heldPerCallMs(): number {
    return this.weight === 0 ? 0 : this.syncMs / this.weight;
  }

  /** A call's mean latency, ms; undefined before any call was sampled. */
  get wallPerCallMs(): number | undefined {
    return this.weight === 0 ? undefined : this.wallMs / this.weight;
  }

  /**
   * The median time a sampled call that succeeded held the event loop, ms. A blocking warning
   * goes by this, not the mean: on a busy machine one call descheduled for 50 ms would lift the
   * mean of a stage of microsecond calls over any threshold.
   */
  get heldMedianMs(): number {
    return this.#held.percentile(50);
  }

  latency(): LatencySummary | undefined {
    const h = this.#latency;
    if (this.samples === 0) return undefined;
    return {
      samples: this.samples,
      mean: round(this.wallPerCallMs ?? 0),
      p50: round(h.percentile(50)),
      p90: round(h.percentile(90)),
      p99: round(h.percentile(99)),
      max: round(h.max),
    };
  }
}

/** Three significant decimals are plenty for milliseconds, and keep reports readable. */
export function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
