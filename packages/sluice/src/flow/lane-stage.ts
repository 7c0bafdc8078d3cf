/**
 * The engine of map, filter, flatMap, tap and forEach: `concurrency` async lanes, each taking the
 * next item, running it through the stage's invoker and handing the result on. A lane takes an
 * item only when it is free, and hands a result on only when the output has room, so the stage
 * never holds more than its lanes, its reorder window and its output buffer.
 *
 * Lanes cost nothing until there is work for them: the stage starts one, and a lane about to wait
 * on its item starts the next, so a stage of a million lanes over three items runs four.
 *
 * Ordered stages number items as they are taken and hand results to an `OrderedEmitter`, which
 * lets them out in number order. A lane may not take an item more than `window` places past the
 * head, which bounds the parked results when one item is slow.
 */
import { EMPTY } from '../core/channel.js';
import { InvalidArgTypeError } from '../core/errors.js';
import { isThenable } from '../core/thenable.js';
import { describe } from '../core/validate.js';
import type { AdaptiveLimiter } from '../limit/adaptive-limiter.js';
import { StageMetrics } from '../observe/stage-metrics.js';
import type { Inlet } from './inlet.js';
import { callsAllowed, type Invoker } from './invoke.js';
import { LoopTurn } from './loop-turn.js';
import { OrderedEmitter } from './ordered-emitter.js';
import { handOn, type Outlet } from './outlet.js';
import type { StageStats } from './report.js';
import type { RunControl } from './run-control.js';
import { settleFailure } from './settle-failure.js';
import type { LaneSpec } from './stage-spec.js';

/**
 * The most an ordered stage's reorder window widens to (`OrderedEmitter.widen`): results parked
 * behind a slow call at the head, as many as a cpu() stage holds between taking and emitting.
 */
const MAX_WINDOW = 16_384;

/** A settled item that passes nothing on; its counter was bumped when it settled. */
const NOTHING: unique symbol = Symbol('nothing');
const CARRY_ON = (): boolean => true;

/** An ordered flatMap item taken while not at the head: its outputs wait here until it is. */
class PendingOutputs {
  readonly queue: unknown[] = [];
  finished = false;
  /** False when the item failed midway: its settled count was bumped by the error policy. */
  succeeded = true;
  atHead = false;
  /** Wakes the lane when its queue is full and it became the head. */
  wake: (() => void) | undefined = undefined;
  #onFinished: (() => void) | undefined = undefined;

  finish(succeeded: boolean): void {
    this.finished = true;
    this.succeeded = succeeded;
    this.#onFinished?.();
  }

  /** Resolves once the lane iterating the item is done with it. */
  whenFinished(): Promise<void> {
    if (this.finished) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onFinished = resolve;
    });
  }
}

export class LaneStage {
  readonly #spec: LaneSpec;
  readonly #input: Inlet<unknown>;
  readonly #output: Outlet<unknown> | undefined;
  readonly #stats: StageStats;
  readonly #run: RunControl;
  readonly #invoke: Invoker;
  /** Ordered output only matters when there is an output: a stage whose output is discarded runs unordered. */
  readonly #ordered: boolean;
  /** Lets ordered stages' results out in number order; undefined when the stage is unordered. */
  readonly #emitter: OrderedEmitter<unknown> | undefined;
  /** Lanes waiting for input; one watcher wakes as many as there are items. */
  #idle: ((more: boolean) => void)[] = [];
  #watching = false;
  readonly #maxLanes: number;
  /** An adaptive stage's limiter: it bounds the lanes worth running (see #laneCap). */
  readonly #gate: AdaptiveLimiter | undefined;
  /**
   * Lanes started so far (less those an adaptive limit ended), and still running: lanes start
   * only as items keep the others busy.
   */
  #lanesStarted = 0;
  #lanesRunning = 0;
  /** Set by a lane about to wait on its item: another lane should take the next. */
  #laneWanted = false;
  #startingLanes = false;
  #lanesEnded: () => void = () => undefined;
  #laneFailed: (error: unknown) => void = () => undefined;
  /** When the lanes, which may run on microtasks alone, let the event loop have a turn. */
  readonly #turn: LoopTurn;
  readonly #metrics: StageMetrics;
  /** Calls to go before the next timed one; counts down on every call. */
  #untilTimed = 1;

  constructor(
    spec: LaneSpec,
    input: Inlet<unknown>,
    output: Outlet<unknown> | undefined,
    stats: StageStats,
    run: RunControl,
  ) {
    this.#spec = spec;
    this.#input = input;
    this.#output = output;
    this.#stats = stats;
    this.#run = run;
    this.#invoke = run.invoker(spec, stats);
    this.#gate = stats.limit;
    stats.onBackoff = this.#backoffStarted;
    this.#metrics = stats.metrics;
    this.#maxLanes = spec.concurrency;
    this.#ordered = spec.ordered && output !== undefined;
    this.#emitter = this.#ordered
      ? new OrderedEmitter(
          spec.kind === 'flatMap' ? this.#releaseFlat : this.#release,
          Math.max(16, spec.concurrency * 2),
          run,
          MAX_WINDOW,
        )
      : undefined;
    this.#turn = new LoopTurn(run.clock);
  }

  /** Runs the lanes; resolves when the input is exhausted and every result is out. */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#lanesEnded = resolve;
      this.#laneFailed = reject;
      this.#startLanes();
    });
    // Ordered results may still be parked behind a full output.
    await this.#emitter?.drained();
    this.#output?.close();
  }

  /**
   * Starts a lane, and another for as long as the last one started is left waiting on its item.
   * A loop rather than recursion, since a lane asks for the next from inside its own first steps.
   */
  #startLanes(): void {
    this.#laneWanted = true;
    if (this.#startingLanes) return;
    this.#startingLanes = true;
    while (this.#laneWanted && this.#mayStartLane()) {
      this.#laneWanted = false;
      this.#lanesStarted++;
      this.#lanesRunning++;
      this.#lane().then(this.#laneEnd, this.#laneFailed);
    }
    this.#startingLanes = false;
  }

  /** An item backing off before its retry holds no call: another lane may take its place. */
  readonly #backoffStarted = (): void => {
    if (!this.#run.stopped) this.#busy();
  };

  readonly #laneEnd = (): void => {
    if (--this.#lanesRunning === 0) this.#lanesEnded();
  };

  /** A lane is about to wait on its item: unless one is idle, start another to take the next. */
  #busy(): void {
    if (this.#idle.length === 0 && this.#mayStartLane()) this.#startLanes();
  }

  #mayStartLane(): boolean {
    return this.#lanesStarted < this.#laneCap();
  }

  /**
   * The lanes worth running now (`callsAllowed`). When that falls (a limit cut, backoffs ended),
   * lanes past it end as they come round for their next item (see #lane), so the stage holds no
   * more items than it runs.
   */
  #laneCap(): number {
    return callsAllowed(this.#maxLanes, this.#stats);
  }

  /**
   * One lane. The loop keeps as few locals alive across its awaits as it can (the item, its
   * number, its result): an async function saves and restores its live registers at every await,
   * and at millions of items a second that copy is a measurable share of the cost. Everything
   * else happens in the synchronous helpers it calls, but for handing a map's result on: V8
   * inlines what the lane calls within a budget of bytecode inlined into one function (920
   * bytes), and what is written in the lane itself does not count against it. As one helper for
   * every kind of stage, the hand-off took 395 of those bytes, and a map stage read by reduce or
   * forEach had no budget left for the map's own function or the terminal's. (Taking an item
   * written out here too made the lane's own code larger for no gain.)
   */
  async #lane(): Promise<void> {
    for (;;) {
      if (
        (this.#gate !== undefined || this.#lanesStarted > this.#maxLanes) &&
        this.#lanesStarted > this.#laneCap()
      ) {
        // The cap fell: a lane past it would only hold an item at the limiter, or run more calls
        // than the concurrency now that backoffs ended. It ends; lanes start again as the cap
        // grows (#busy).
        this.#lanesStarted--;
        return;
      }
      const item = this.#take();
      if (item === EMPTY) {
        const wait = this.#waitToTake();
        if (wait === true || (wait !== false && (await wait))) continue;
        return;
      }
      const index = this.#stats.entered++;
      let result: unknown;
      try {
        result = --this.#untilTimed === 0 ? this.#timed(item, index) : this.#invoke(item, index);
        if (isThenable(result)) {
          if (this.#lanesStarted < this.#maxLanes) this.#busy();
          result = await result;
          if (this.#metrics.pending !== 0) this.#metrics.settled(index);
        }
      } catch (error) {
        if (this.#metrics.pending !== 0) this.#metrics.settled(index, true);
        if (await this.#fail(item, index, error)) continue;
        return;
      }
      // The result goes on, unless the run stopped: then the lane ends and the item stays unsettled.
      if (this.#run.stopped) return;
      const pending =
        this.#spec.kind !== 'map'
          ? this.#finishOther(item, index, result)
          : this.#emitter === undefined
            ? this.#passUnordered(result)
            : this.#passOrdered(index, result);
      if (pending !== undefined && !(await pending)) return;
    }
  }

  /** Times call `index` (see StageMetrics) and sets the countdown to the next timed call. */
  #timed(item: unknown, index: number): unknown {
    this.#untilTimed = StageMetrics.gapAfter(index);
    return this.#metrics.time(this.#invoke, item, index);
  }

  /** The next item, or EMPTY when the lane must wait (or stop): see #waitToTake. */
  #take(): unknown {
    if (
      this.#run.stopped ||
      this.#turn.due() ||
      (this.#emitter !== undefined && !this.#emitter.hasRoom(this.#stats.entered))
    ) {
      return EMPTY;
    }
    return this.#input.tryPull();
  }

  /**
   * Why the lane may not take, and until when: true to carry on now, false to stop, or a promise
   * of one of those. Not an async function: a lane of an ordered stage read by `for await` waits
   * for the head about once per four items, and an async helper's own promise and resumption
   * doubled what each wait cost.
   */
  #waitToTake(): Promise<boolean> | boolean {
    if (this.#run.stopped) return false;
    if (this.#turn.isDue) return this.#turn.yielded().then(CARRY_ON);
    if (this.#emitter !== undefined && !this.#emitter.hasRoom(this.#stats.entered)) {
      // A call still out at the head, with the output free: the window, not the consumer, holds.
      if (this.#emitter.widen()) return true;
      return this.#emitter.advanced();
    }
    if (this.#input.done) return false;
    return this.#waitForInput();
  }

  /** An item failed for good: applies the policy. True to carry on, false to stop. */
  async #fail(item: unknown, index: number, error: unknown): Promise<boolean> {
    if (this.#run.stopped) return false;
    this.#busy();
    await this.#settleFailure(item, index, error);
    if (this.#run.stopped) return false;
    this.#emitter?.put(index, NOTHING);
    return true;
  }

  /**
   * A filter's, tap's, forEach's or flatMap's result goes on. Returns undefined when that was done
   * at once (the common case), or a promise of whether to carry on when it has to wait for room.
   */
  #finishOther(item: unknown, index: number, result: unknown): Promise<boolean> | undefined {
    const stats = this.#stats;
    switch (this.#spec.kind) {
      case 'filter':
        if (!result) {
          stats.filtered++;
          result = NOTHING;
        } else result = item;
        break;
      case 'tap':
        result = item;
        break;
      case 'forEach':
        stats.emitted++;
        return undefined;
      case 'flatMap':
        this.#busy();
        return this.#flatten(item, index, result).then(CARRY_ON);
    }
    return this.#emitter === undefined ? this.#passUnordered(result) : this.#passOrdered(index, result);
  }

  /**
   * An item's one result (or NOTHING, which holds its place in the order) goes on: through the
   * emitter when the stage is ordered, else to the output. Two paths, so that a lane inlines only
   * the one its stage takes (see #lane).
   */
  #passOrdered(index: number, result: unknown): undefined {
    const emitter = this.#emitter as OrderedEmitter<unknown>;
    // The head with nothing parked goes out here, as #release would let it out, without the calls.
    if (emitter.isNext(index) && (result === NOTHING || (this.#output as Outlet<unknown>).tryPush(result))) {
      if (result !== NOTHING) {
        this.#stats.emitted++;
        this.#stats.outputs++;
      }
      emitter.released();
    } else emitter.put(index, result);
    return undefined;
  }

  #passUnordered(result: unknown): Promise<boolean> | undefined {
    if (result === NOTHING) return undefined;
    const output = this.#output;
    if (output === undefined) {
      this.#stats.emitted++;
      this.#stats.outputs++;
      return undefined;
    }
    return handOn(output, result, this.#run, this.#countEmitted)?.then(CARRY_ON);
  }

  /**
   * Ordered stages: lets one item's results out, when the emitter says it is its turn. A value
   * goes out at once when the output has room; when it is full, one wake-up is registered and the
   * lanes carry on (parking) until the window fills, so a busy consumer costs a promise per burst,
   * not per item.
   */
  readonly #release = (result: unknown): Promise<boolean> | undefined => {
    if (result === NOTHING) return undefined;
    return handOn(this.#output as Outlet<unknown>, result, this.#run, this.#countEmitted);
  };

  /** An item's one value went out. */
  readonly #countEmitted = (): void => {
    this.#stats.emitted++;
    this.#stats.outputs++;
  };

  /** One of an item's several values went out (flatMap counts the item once all have). */
  readonly #countOutput = (): void => {
    this.#stats.outputs++;
  };

  /** Ordered flatMap: an item whose outputs were counted as they went, or one that queued them. */
  readonly #releaseFlat = (result: unknown): Promise<void> | undefined =>
    result instanceof PendingOutputs ? this.#releaseOutputs(result) : undefined;

  /** An ordered flatMap item's turn: its queued outputs go, then it emits directly until done. */
  async #releaseOutputs(pending: PendingOutputs): Promise<void> {
    while (pending.queue.length > 0) await this.#passOutput(pending.queue.shift());
    if (!pending.finished) {
      pending.atHead = true;
      pending.wake?.();
      await pending.whenFinished();
    }
    if (pending.succeeded) this.#stats.emitted++;
  }

  /** Parks a lane until input arrives (true) or the input ends (false). */
  #waitForInput(): Promise<boolean> {
    return new Promise((resolve) => {
      this.#idle.push(resolve);
      if (!this.#watching) void this.#watch();
    });
  }

  /**
   * One watcher per stage waits on the input and wakes one idle lane per item that arrived, so a
   * trickle of input into a stage of 5,000 lanes wakes one lane, not 5,000.
   */
  async #watch(): Promise<void> {
    this.#watching = true;
    try {
      while (this.#idle.length > 0 && !this.#run.stopped) {
        const more = await this.#input.readable();
        if (!more) break;
        for (let n = this.#input.size; n > 0 && this.#idle.length > 0; n--) this.#idle.shift()?.(true);
      }
    } catch {
      // The input failed: the run is being torn down, and the lanes are released below.
    } finally {
      this.#watching = false;
      for (const wake of this.#idle.splice(0)) wake(false);
    }
  }

  /** Applies the stage's error policy to an item that failed for good. */
  #settleFailure(item: unknown, index: number, thrown: unknown): Promise<void> {
    return settleFailure(this.#spec, this.#stats, this.#run, item, index, thrown);
  }

  /** Passes one of an item's several values downstream: undefined when done at once, else a promise of when. */
  #passOutput(value: unknown): Promise<boolean> | undefined {
    const output = this.#output;
    if (output !== undefined) return handOn(output, value, this.#run, this.#countOutput);
    this.#stats.outputs++;
    return undefined;
  }

  /**
   * One value of a flatMap item: passed on now, or queued while the item is not at the head.
   * Returns a promise when the item must wait: for room downstream, or for its queue to drain.
   */
  #flatOutput(value: unknown, pending: PendingOutputs | undefined): Promise<unknown> | undefined {
    if (pending === undefined || pending.atHead) return this.#passOutput(value);
    pending.queue.push(value);
    if (pending.queue.length < this.#spec.buffer) return undefined;
    return new Promise<void>((resolve) => {
      pending.wake = resolve;
    }).then(() => {
      pending.wake = undefined;
    });
  }

  /** flatMap: passes on every value of the iterable `fn` returned, in order within the item. */
  async #flatten(item: unknown, index: number, iterable: unknown): Promise<void> {
    const emitter = this.#emitter;
    // At the head from the start, an item emits directly; else its outputs queue until it is.
    const pending = emitter !== undefined && index !== emitter.head ? new PendingOutputs() : undefined;
    if (pending !== undefined) emitter?.put(index, pending);
    try {
      const values = toIterable(iterable);
      if (Symbol.asyncIterator in values) {
        for await (const value of values) {
          if (this.#run.stopped) return;
          const wait = this.#flatOutput(value, pending);
          if (wait !== undefined) await wait;
        }
      } else {
        // An array (a page of rows, say) is walked in this turn: `for await` over it took a turn
        // per value, and flatMap ran at a sixth of a map that returns the page. As `for await`
        // does, a value that is a promise is awaited.
        for (let value of values) {
          if (isThenable(value)) value = await value;
          if (this.#run.stopped) return;
          const wait = this.#flatOutput(value, pending);
          if (wait !== undefined) await wait;
        }
      }
      if (pending !== undefined) {
        pending.finish(true);
        return;
      }
    } catch (error) {
      if (this.#run.stopped) return;
      await this.#settleFailure(item, index, error);
      // Outputs already queued still go out: they came before the failure, like those emitted.
      pending?.finish(false);
      if (pending === undefined) emitter?.put(index, NOTHING);
      return;
    } finally {
      // A stopped run leaves the item unfinished: it must not hold the emitter up.
      if (pending !== undefined && !pending.finished) pending.finish(false);
    }
    this.#stats.emitted++;
    emitter?.put(index, NOTHING);
  }
}

function toIterable(value: unknown): Iterable<unknown> | AsyncIterable<unknown> {
  if (
    value !== null &&
    typeof value === 'object' &&
    (Symbol.iterator in value || Symbol.asyncIterator in value) &&
    typeof value !== 'string'
  ) {
    return value as Iterable<unknown>;
  }
  throw new InvalidArgTypeError(
    `flatMap's function must return an Iterable or an AsyncIterable. Received ${describe(value)}`,
  );
}
