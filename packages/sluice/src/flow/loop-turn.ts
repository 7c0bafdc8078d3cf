/**
 * How long a stage may keep the event loop to itself. Items whose functions finish synchronously,
 * or with promises that are already resolved, keep a stage going on microtasks alone, and
 * microtasks run before any timer or socket gets a turn. Once a stage has run YIELD_AFTER_MS
 * without the event loop getting one, it pauses for one macrotask, so a run over a large
 * in-memory source cannot starve the rest of the process (an HTTP server, an abort timer).
 *
 * The clock is read every `#checkGap` calls of `due()`: up to 256 for quick items, fewer for slow
 * synchronous ones, so that it is read about every CHECK_EVERY_MS (a stage of 5 ms synchronous
 * calls must not run 256 of them before it looks). One policy for every stage that calls
 * functions on the event loop: the lanes of a lane stage, and a forEach run inline (see
 * `inline-for-each.ts`).
 */
import type { Clock } from '../core/clock.js';

const YIELD_AFTER_MS = 10;
/** How often, in work, a stage looks at the clock; and the most calls it lets pass between looks. */
const CHECK_EVERY_MS = 2;
const MAX_CHECK_GAP = 256;

export class LoopTurn {
  readonly #clock: Clock;
  /** Calls of `due()` to go before the clock is read again. */
  #untilCheck = 1;
  /** Calls between clock reads: up to 256 for quick items, down to 1 for slow synchronous ones. */
  #checkGap = 1;
  #lastCheck: number;
  /** When the event loop last had a turn, as far as this stage knows. */
  #lastYield: number;
  /** Set once the stage has run too long without the event loop getting a turn. */
  #yieldDue = false;
  #pause: Promise<void> | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#lastYield = clock.now();
    this.#lastCheck = this.#lastYield;
  }

  /** True once the stage should let the event loop have a turn (see `yielded`). Called per item. */
  due(): boolean {
    return this.#yieldDue || (--this.#untilCheck === 0 && this.#check());
  }

  /** True when a turn is due, without counting a call. */
  get isDue(): boolean {
    return this.#yieldDue;
  }

  #check(): boolean {
    const now = this.#clock.now();
    const sinceCheck = now - this.#lastCheck;
    this.#lastCheck = now;
    this.#checkGap =
      sinceCheck <= 0
        ? Math.min(MAX_CHECK_GAP, this.#checkGap * 2)
        : Math.max(1, Math.min(MAX_CHECK_GAP, Math.floor((this.#checkGap * CHECK_EVERY_MS) / sinceCheck)));
    this.#untilCheck = this.#checkGap;
    if (now - this.#lastYield < YIELD_AFTER_MS) return false;
    this.#yieldDue = true;
    return true;
  }

  /** Resolves after one macrotask, shared by every caller waiting in the same pause. */
  yielded(): Promise<void> {
    this.#pause ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#pause = undefined;
        this.#yieldDue = false;
        this.#lastYield = this.#clock.now();
        // At least one call goes before the clock is read again: on a clock that moves by
        // YIELD_AFTER_MS or more between two readings (a fake clock that advances as it is read,
        // a coarse or stepping one), every reading would find a turn due, and the stage would
        // hand the loop turn after turn without ever calling its function.
        if (this.#untilCheck < 2) this.#untilCheck = 2;
        resolve();
      }),
    );
    return this.#pause;
  }
}
