/**
 * A forEach at the end of a flow, run inside the stage before it: it is that stage's outlet. A
 * value pushed to it is handed to the forEach function at once, in the pushing stage's own turn,
 * while fewer than `concurrency` calls are in flight; past that it waits in a queue as long as
 * the buffer between the two stages would have been, and the pusher is told there is no room
 * beyond that. As a lane stage behind a channel, a forEach paid for the channel's hand-offs and
 * its own lane's bookkeeping on every item: about a third of a no-op flow's time.
 *
 * It is the same stage to the user and to the report: the function is called through the stage's
 * invoker (retry, timeout, rate limit, adaptive limit), a call that fails for good meets the
 * stage's error policy, calls are sampled for the stage's metrics, and the event loop gets a turn
 * on the same policy as a lane's (`LoopTurn`): a slow synchronous function behind a cpu() stage,
 * which hands over results by the batch, must not hold the loop for the whole batch.
 */
import { ChannelClosedError } from '../core/errors.js';
import { isThenable } from '../core/thenable.js';
import type { AdaptiveLimiter } from '../limit/adaptive-limiter.js';
import { StageMetrics } from '../observe/stage-metrics.js';
import { CallContext, callsAllowed, hasPolicies, type Invoker } from './invoke.js';
import { LoopTurn } from './loop-turn.js';
import type { Outlet } from './outlet.js';
import type { StageStats } from './report.js';
import type { RunControl } from './run-control.js';
import { settleFailure } from './settle-failure.js';
import type { LaneSpec } from './stage-spec.js';

export class InlineForEach implements Outlet<unknown> {
  readonly #spec: LaneSpec;
  readonly #stats: StageStats;
  readonly #metrics: StageMetrics;
  readonly #run: RunControl;
  readonly #invoke: Invoker;
  /**
   * The function itself when no policy wraps it, called here rather than through the invoker:
   * the invoker's closure is shared by every stage of the flow, so its call of the function sees
   * several and cannot be inlined; this call site sees only forEach's.
   */
  readonly #direct: LaneSpec['fn'] | undefined;
  /**
   * What a timed call calls: the invoker when a policy wraps the function, else a call of the
   * function made here. Through the invoker, the few timed calls of the forEach's function reached
   * the call site every stage's invoker shares, and the stage before, whose every call goes
   * through it, no longer had its own function inlined there (V8 inlines a call site that has
   * only ever seen one function).
   */
  readonly #timedCall: Invoker;
  readonly #turn: LoopTurn;
  readonly #concurrency: number;
  /** An adaptive stage's limiter: checked first, so a fixed stage's room costs one comparison. */
  readonly #gate: AdaptiveLimiter | undefined;
  readonly #capacity: number;
  readonly #lowWater: number;
  /** Values waiting for a call: `#queue[#queueHead]` onwards. */
  #queue: unknown[] = [];
  #queueHead = 0;
  /**
   * How many values wait (the queue's length less its head), kept apart so that a push's common
   * path reads no array: the queue's array changes its kind of elements as values wait in it and
   * are cleared, and a check of its length in the lane's optimized code threw that code away when
   * it first did (a cold forEach of a million items compiled its lane a further time for it).
   */
  #waiting = 0;
  /** Calls started and not yet settled, their error policy included. */
  #inFlight = 0;
  /** Calls to go before the next timed one (see StageMetrics.gapAfter). */
  #untilTimed = 1;
  #closed = false;
  #failed = false;
  #failure: unknown;
  /** True while a macrotask is scheduled to carry on calling after the loop had its turn. */
  #resuming = false;
  #writableWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #finished: () => void = () => undefined;
  readonly #done: Promise<void>;

  /**
   * @param capacity how many values may wait for a call: the buffer the stage before would have
   *   written into.
   */
  constructor(spec: LaneSpec, stats: StageStats, run: RunControl, capacity: number) {
    this.#spec = spec;
    this.#stats = stats;
    this.#metrics = stats.metrics;
    this.#run = run;
    this.#invoke = run.invoker(spec, stats);
    this.#direct = hasPolicies(spec) ? undefined : spec.fn;
    this.#timedCall = this.#direct === undefined ? this.#invoke : this.#callDirect;
    this.#turn = new LoopTurn(run.clock);
    this.#concurrency = spec.concurrency;
    this.#gate = stats.limit;
    stats.onBackoff = this.#backoffStarted;
    this.#capacity = capacity;
    this.#lowWater = Math.floor(capacity / 2);
    this.#done = new Promise<void>((resolve) => {
      this.#finished = resolve;
    });
  }

  /** Values waiting for a call. */
  get size(): number {
    return this.#waiting;
  }

  /** Resolves once the stage before has closed this outlet and every call has settled. */
  start(): Promise<void> {
    return this.#done;
  }

  /**
   * Calls the function on `value` now when nothing waits and there is room, else queues it. The
   * stage before calls this for every item from its lane, which inlines it within V8's budget of
   * bytecode inlined into one function (see LaneStage's #lane): so the common path here and
   * in #call is kept short, and everything else is a call away.
   */
  tryPush(value: unknown): boolean {
    if (this.#waiting === 0 && !this.#closed && this.#hasRoom() && !this.#turn.due()) {
      this.#call(value);
      return true;
    }
    return this.#queueValue(value);
  }

  /** tryPush when the value cannot be called now: it waits, or there is no room (false). */
  #queueValue(value: unknown): boolean {
    if (this.#closed) throw this.#closedError();
    if (this.#waiting >= this.#capacity) return false;
    this.#queue.push(value);
    this.#waiting++;
    this.#resumeLater();
    return true;
  }

  tryPushMany(values: readonly unknown[], from = 0, to = values.length): number {
    let i = from;
    while (i < to && this.tryPush(values[i])) i++;
    return i;
  }

  writable(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (this.size <= this.#lowWater) return Promise.resolve();
    return new Promise((resolve, reject) => this.#writableWaiters.push({ resolve, reject }));
  }

  /** The stage before is done: once the queue drains and every call settles, so is this one. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rejectWriters(this.#closedError());
    this.#finishIfIdle();
  }

  /**
   * The run stopped: nothing more is called, and waiting values are dropped. Returns how many, so
   * the run counts them as entered and never taken, as for a channel's buffer.
   */
  fail(error: unknown): number {
    if (this.#failed) return 0;
    const dropped = this.size;
    this.#failed = true;
    this.#closed = true;
    this.#failure = error;
    this.#queue = [];
    this.#queueHead = 0;
    this.#waiting = 0;
    this.#rejectWriters(error);
    this.#finishIfIdle();
    return dropped;
  }

  /** Room for another call (`callsAllowed`, as a lane stage runs lanes). */
  #hasRoom(): boolean {
    const inFlight = this.#inFlight;
    if (this.#gate === undefined && inFlight < this.#concurrency) return true;
    return inFlight < callsAllowed(this.#concurrency, this.#stats);
  }

  /**
   * One call: in this turn it returns, or it is counted in flight until it settles. The function
   * is called here when nothing wraps it and the call is not timed; #callOther does the rest.
   */
  #call(value: unknown): void {
    const index = this.#stats.entered++;
    const direct = this.#direct;
    if (direct === undefined || --this.#untilTimed === 0) {
      this.#callOther(value, index);
      return;
    }
    let result: unknown;
    try {
      result = direct(value, new CallContext(index, 1, this.#run));
    } catch (error) {
      this.#settleFailure(value, index, error);
      return;
    }
    if (isThenable(result)) this.#awaitCall(value, index, result);
    // As a lane's: an item that returns after the run stopped stays unsettled in the report.
    else if (!this.#run.stopped) this.#stats.emitted++;
  }

  /** #call for a timed call (#call counted it down), or for a function under a policy. */
  #callOther(value: unknown, index: number): void {
    const timed = this.#direct !== undefined || --this.#untilTimed === 0;
    let result: unknown;
    try {
      if (timed) {
        this.#untilTimed = StageMetrics.gapAfter(index);
        result = this.#metrics.time(this.#timedCall, value, index);
      } else result = this.#invoke(value, index);
    } catch (error) {
      this.#settleFailure(value, index, error);
      return;
    }
    if (isThenable(result)) this.#awaitCall(value, index, result);
    else if (!this.#run.stopped) this.#stats.emitted++;
  }

  /** The function called without the invoker, for a timed call (see #timedCall). */
  readonly #callDirect = (value: unknown, index: number): unknown =>
    (this.#direct as LaneSpec['fn'])(value, new CallContext(index, 1, this.#run));

  /** A call that returned a promise: it is in flight until it settles. */
  #awaitCall(value: unknown, index: number, result: PromiseLike<unknown>): void {
    this.#inFlight++;
    result.then(
      () => {
        if (this.#metrics.pending !== 0) this.#metrics.settled(index);
        if (!this.#run.stopped) this.#stats.emitted++;
        this.#settled();
      },
      (error: unknown) => {
        if (this.#metrics.pending !== 0) this.#metrics.settled(index, true);
        this.#inFlight--;
        this.#settleFailure(value, index, error);
      },
    );
  }

  /** A call that failed for good meets the stage's error policy; it stays in flight until that is done. */
  #settleFailure(value: unknown, index: number, error: unknown): void {
    if (this.#run.stopped) {
      this.#finishIfIdle();
      return;
    }
    this.#inFlight++;
    settleFailure(this.#spec, this.#stats, this.#run, value, index, error).then(this.#settled, (e) =>
      this.#run.fail(e),
    );
  }

  /** A call backing off before its retry holds no call: a waiting value may take its place. */
  readonly #backoffStarted = (): void => this.#callQueued();

  readonly #settled = (): void => {
    this.#inFlight--;
    this.#callQueued();
  };

  /** Calls waiting values while there is room in flight and the loop's turn is not due. */
  #callQueued(): void {
    const queue = this.#queue;
    while (this.#waiting > 0 && this.#hasRoom() && !this.#run.stopped && !this.#turn.due()) {
      const value = queue[this.#queueHead];
      queue[this.#queueHead++] = undefined;
      this.#waiting--;
      this.#call(value);
    }
    if (this.#waiting === 0) {
      // Reset rather than shift: the queue is read by index, and emptied often.
      this.#queue = [];
      this.#queueHead = 0;
    } else if (this.#turn.isDue) this.#resumeLater();
    if (this.#writableWaiters.length > 0 && this.size <= this.#lowWater) {
      for (const waiter of this.#writableWaiters.splice(0)) waiter.resolve();
    }
    this.#finishIfIdle();
  }

  /** Values wait while the loop has its turn: the calls go on after it. */
  #resumeLater(): void {
    if (this.#resuming || !this.#turn.isDue) return;
    this.#resuming = true;
    void this.#turn.yielded().then(() => {
      this.#resuming = false;
      this.#callQueued();
    });
  }

  #finishIfIdle(): void {
    if (this.#closed && this.#inFlight === 0 && this.size === 0) this.#finished();
  }

  #rejectWriters(error: unknown): void {
    for (const waiter of this.#writableWaiters.splice(0)) waiter.reject(error);
  }

  #closedError(): unknown {
    return this.#failed ? this.#failure : new ChannelClosedError('The forEach stage is closed');
  }
}
