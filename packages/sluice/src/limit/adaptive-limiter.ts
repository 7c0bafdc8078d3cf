/**
 * Admits calls under an adaptive limit, one limit per key. The engine of `concurrency:
 * 'adaptive'`: a stage asks for a turn before each attempt and reports how the attempt went, and
 * the limiter turns those reports into the limit (see gradient-limit.ts). A call starts only when
 * its key is under its limit, no Retry-After pause holds the key, and the process's descriptor
 * budget has room.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { retryAfterMs } from '../core/retry.js';
import { WaiterQueue } from '../core/waiter-queue.js';
import type { NormalizedAdaptive } from './adaptive-options.js';
import { GradientLimit, type Objective } from './gradient-limit.js';
import { type DescriptorBudget, processBudget } from './open-files.js';
import { StartLog } from './start-log.js';

/**
 * What an adaptive stage's report says about its limit. Plain data. With a `key` there is a limit
 * per key, so the figures come in two groups that never mix: `perKey` (what each key's limit was
 * set to and the extremes any one key reached) and `total` (summed over the keys).
 */
export interface LimitReport {
  readonly adaptive: true;
  readonly objective: Objective;
  /** Keys that got a limit of their own; 1 without a `key`. */
  readonly keyCount: number;
  /** One key's limit: its bounds and start as set, and the highest and lowest any key reached. */
  readonly perKey: {
    readonly min: number;
    readonly max: number;
    readonly initial: number;
    readonly peak: number;
    readonly lowest: number;
  };
  /** Over every key together. */
  readonly total: {
    /** The limits summed when the run ended: the stage's `concurrency` in its report. */
    readonly final: number;
    /** The most calls in flight at once. */
    readonly peakInFlight: number;
    /** Drops (overload signals) seen. */
    readonly drops: number;
  };
  /** With a `key`: each key's final limit, by `String(key)`, for the first 100 keys. */
  readonly keys?: Readonly<Record<string, number>>;
}

/** The most keys listed in a report: a key per item would make the report as long as the input. */
const REPORTED_KEYS = 100;

/** One key's share: its limit, its calls in flight and its queue of callers waiting for a turn. */
export class KeySlot {
  readonly limit: GradientLimit;
  /** Calls holding a turn now; never above `limit.limit` except right after the limit shrank. */
  inflight = 0;
  readonly waiters: WaiterQueue;
  /** New calls wait until the clock reaches this (a Retry-After); -Infinity when not paused. */
  pausedUntil = Number.NEGATIVE_INFINITY;
  /** Whether a call on the key has succeeded since the limit was last cut (or ever, before the first). */
  succeededSinceCut = false;
  /**
   * When the key's current run of cuts began: the first cut for a new episode of drops since a
   * call on the key last succeeded.
   */
  firstCutAt = Number.NEGATIVE_INFINITY;
  /**
   * Set only while callers wait, to wake them: out a pause, or for the limit to grow before the
   * first answer.
   */
  timer: TimerHandle | undefined;
  readonly #pump: (slot: KeySlot) => void;
  readonly #clock: Clock;
  /** Lets this key's waiting calls go while the limit has room. */
  readonly wake = (): void => this.#pump(this);
  /** 'throughput' only: the load each call started into, which its latency is read against. */
  readonly starts: StartLog | undefined;

  constructor(limit: GradientLimit, clock: Clock, pump: (slot: KeySlot) => void, starts?: StartLog) {
    this.limit = limit;
    this.starts = starts;
    this.#pump = pump;
    this.#clock = clock;
    this.waiters = new WaiterQueue(() => this.#stopTimer());
  }

  /** Ends a pause before its time: new calls may start at once. */
  endPause(): void {
    this.pausedUntil = Number.NEGATIVE_INFINITY;
    this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.timer !== undefined) this.#clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export class AdaptiveLimiter {
  readonly #settings: NormalizedAdaptive;
  readonly #clock: Clock;
  readonly #budget: DescriptorBudget;
  /** The one slot when there is no key: the common case looks nothing up. */
  readonly #single: KeySlot | undefined;
  readonly #slots = new Map<unknown, KeySlot>();
  #inflight = 0;
  #peakInflight = 0;
  #drops = 0;

  /**
   * @param budget the descriptor budget shared with every other adaptive limit; tests pass their own
   */
  constructor(settings: NormalizedAdaptive, clock: Clock, budget: DescriptorBudget = processBudget()) {
    this.#settings = settings;
    this.#clock = clock;
    this.#budget = budget;
    this.#single = settings.key === undefined ? this.#newSlot() : undefined;
  }

  /** The slot of the item's key (the only slot when the limit has no key). */
  slot(item: unknown): KeySlot {
    if (this.#single !== undefined) return this.#single;
    const key = (this.#settings.key as (item: unknown) => unknown)(item);
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = this.#newSlot();
      this.#slots.set(key, slot);
    }
    return slot;
  }

  /**
   * How many callers the limiter can keep busy now: a stage runs no more lanes than this (and one
   * more for each item waiting out a retry's backoff), so its lanes follow the limit instead of
   * its `max`. A lane beyond it would only take an item from the input and queue with it (at the
   * default `max`, 10,000 of them, which cost more to park and collect than fast calls take).
   * With a key, no bound: each key has a limit of its own, and callers queued on a full key must
   * not hold back the others.
   */
  get callers(): number {
    const slot = this.#single;
    return slot === undefined ? Number.POSITIVE_INFINITY : slot.limit.callers;
  }

  /** Takes a turn if one is free and nobody queued before; never waits. */
  tryAcquire(slot: KeySlot): boolean {
    if (slot.waiters.size > 0 || !this.#canStart(slot)) return false;
    this.#take(slot);
    return true;
  }

  /** Waits for a turn, first come first served within the key. Rejects when `signal` aborts. */
  acquire(slot: KeySlot, signal?: AbortSignal): Promise<void> {
    const turn = slot.waiters.enqueue(signal);
    this.#pump(slot);
    return turn;
  }

  /**
   * Gives a turn back and reports how the call went.
   * @param started the clock's time when the turn was taken
   * @param error what the call threw; `undefined` for a success
   */
  release(slot: KeySlot, started: number, failed: boolean, error?: unknown): void {
    const now = this.#clock.now();
    // ('latency' reads the calls in flight now, as it always has: it judges the limit, not the load.)
    const load = slot.starts?.at(started) ?? slot.inflight;
    if (!failed) {
      slot.limit.success(now, now - started, load, slot.inflight);
      slot.succeededSinceCut = true;
      // A key held as refused outright that answers a call after all was not refused: its 429s
      // were the excess of a burst, answered before the calls the service took (a first round
      // trip past a concurrency it does not announce), not a spent quota. Held, it ran 50 calls
      // in the second a Retry-After: 1 asked for, where it could answer 2,000.
      if (slot.pausedUntil > now) slot.endPause();
    } else if (this.#settings.isOverload(error)) {
      this.#drops++;
      // A Retry-After holds every call on the key only when the key is refused outright: nothing
      // has succeeded since the last cut (a spent quota, a service shedding all load). A service
      // that rejects only the calls above its capacity keeps answering the rest: the cut answers
      // it, and only the rejected call waits (its retry honours the Retry-After).
      // (A round trip after the first cut of the run at least: rejections that return before the
      // calls the cut kept could answer are a cut not yet deep enough, not a refusal. Counted
      // from the last cut instead, a quota spent for good was never read as a refusal when its
      // 429s came back faster than a round trip: each one is a new episode and a new cut, a
      // millisecond after the last, and a key asked to wait 2 s started 1,769 calls in them.)
      const newEpisode = slot.limit.isNewEpisode(started);
      const roundTrip = slot.limit.lastRtt ?? 0;
      const refused = newEpisode && !slot.succeededSinceCut && now - slot.firstCutAt >= roundTrip;
      slot.limit.drop(now, started, load);
      if (newEpisode) {
        if (slot.succeededSinceCut) slot.firstCutAt = now;
        slot.succeededSinceCut = false;
      }
      const pause = retryAfterMs(error);
      if (refused && pause !== undefined && pause > 0) {
        slot.pausedUntil = Math.max(slot.pausedUntil, now + pause);
      }
    }
    slot.inflight--;
    this.#inflight--;
    this.#budget.inUse--;
    this.#pump(slot);
    if (!this.#budget.full) this.#budget.notify();
  }

  /** The limit of the item's key now. */
  limitOf(item: unknown): number {
    return this.slot(item).limit.limit;
  }

  /** What the limit is after: calls a second ('throughput') or the calls' latency ('latency'). */
  get objective(): Objective {
    return this.#settings.objective;
  }

  report(): LimitReport {
    const { objective, min, max, initial } = this.#settings;
    const slots = this.#single !== undefined ? [this.#single] : [...this.#slots.values()];
    let final = 0;
    let peak = slots.length === 0 ? initial : 0;
    let lowest = slots.length === 0 ? initial : max;
    for (const s of slots) {
      final += s.limit.limit;
      peak = Math.max(peak, s.limit.peak);
      lowest = Math.min(lowest, s.limit.lowest);
    }
    const report = {
      adaptive: true as const,
      objective,
      keyCount: slots.length,
      perKey: { min, max, initial, peak, lowest },
      total: {
        final: slots.length === 0 ? initial : final,
        peakInFlight: this.#peakInflight,
        drops: this.#drops,
      },
    };
    if (this.#single !== undefined) return report;
    const keys: Record<string, number> = {};
    for (const [key, slot] of [...this.#slots].slice(0, REPORTED_KEYS)) keys[String(key)] = slot.limit.limit;
    return { ...report, keys };
  }

  #newSlot(): KeySlot {
    const starts = this.#settings.objective === 'throughput' ? new StartLog() : undefined;
    return new KeySlot(new GradientLimit(this.#settings), this.#clock, (slot) => this.#pump(slot), starts);
  }

  #canStart(slot: KeySlot): boolean {
    return (
      slot.inflight < slot.limit.limit &&
      !this.#budget.full &&
      (slot.pausedUntil === Number.NEGATIVE_INFINITY || this.#clock.now() >= slot.pausedUntil)
    );
  }

  #take(slot: KeySlot): void {
    slot.inflight++;
    slot.starts?.record(this.#clock.now(), slot.inflight);
    this.#budget.inUse++;
    if (++this.#inflight > this.#peakInflight) this.#peakInflight = this.#inflight;
  }

  /** Serves the key's waiters while it may start calls; arranges to be called again when it may not. */
  #pump(slot: KeySlot): void {
    while (slot.waiters.size > 0) {
      if (!this.#canStart(slot)) {
        if (slot.inflight >= slot.limit.limit) {
          // A release will pump again. Before the first answer the limit also grows with time:
          // it may have grown since, and a timer pumps again when it grows next.
          if (!slot.limit.opening) return;
          const grows = slot.limit.open(this.#clock.now());
          if (slot.inflight < slot.limit.limit) continue;
          if (grows !== undefined) this.#wakeIn(slot, grows);
          return;
        }
        if (this.#budget.full) {
          this.#budget.whenFree(slot.wake);
          return;
        }
        this.#wakeIn(slot, slot.pausedUntil - this.#clock.now());
        return;
      }
      this.#take(slot);
      slot.waiters.serve();
    }
  }

  /** Pumps the key's waiters again in `ms`, unless a timer to do so is already set. */
  #wakeIn(slot: KeySlot, ms: number): void {
    if (slot.timer !== undefined) return;
    slot.timer = this.#clock.setTimeout(() => {
      slot.timer = undefined;
      this.#pump(slot);
    }, ms);
  }
}
