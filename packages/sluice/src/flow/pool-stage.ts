/**
 * The engine of a `map(cpu(url))` stage. Where a lane stage calls a function per item, this one
 * takes items in batches (as many as are ready, up to the size the executor asks for), hands each
 * batch to the stage's executor (worker threads, child processes, remote workers: whatever its
 * provider opened, through the Executor contract only) and emits the outcomes item by item. With
 * the pools, the main thread never runs the task: it only moves items, which is what keeps its
 * event loop free while every core computes.
 *
 * It keeps up to the executor's `capacity` batches in flight. Ordered stages number batches as they
 * are taken and emit them in that order; unordered ones number them as they finish. Either way the
 * stage's `OrderedEmitter` lets them out one batch at a time, so batches never interleave. What the stage holds (taken, not yet
 * emitted) is bounded twice: at most `window` batches, which bounds what a slow item can hold back,
 * and at most HELD_ITEMS items, because batches of thousands of small items times dozens of
 * batches would otherwise let a stage whose output waits hoard hundreds of thousands of records.
 */

import { watchAbort } from '../core/abort-watch.js';
import { errorMessage, isSluiceError, StageError } from '../core/errors.js';
import { RetriesExhausted, type RetrySchedule, retrying } from '../core/retry.js';
import { type BatchOutcome, type Executor, openExecutor } from '../exec/executor.js';
import type { Inlet } from './inlet.js';
import { OrderedEmitter } from './ordered-emitter.js';
import { handOn, type Outlet } from './outlet.js';
import type { StageStats } from './report.js';
import type { RunControl } from './run-control.js';
import { settleFailure } from './settle-failure.js';
import type { CpuSpec } from './stage-spec.js';

/** A finished batch waiting for its turn to be emitted. */
interface Finished {
  readonly items: unknown[];
  readonly first: number;
  readonly outcome: BatchOutcome<unknown>;
}

/**
 * Items a stage may hold between taking and emitting them. Enough to keep every worker's pipeline
 * full at the batch sizes small tasks reach (about 2 ms of work per batch); a single batch larger
 * than this is still taken when the stage holds nothing.
 */
export const HELD_ITEMS = 16_384;

/** Failures that retrying on the stage's schedule cannot fix: the pool already retried, or never could. */
const notRetryable = new Set(['SLUICE_ERR_WORKER_CRASHED', 'SLUICE_ERR_DATA_CLONE']);

/** A retry's request failed as a whole (the executor closed): the stage fails, as for a batch's request. */
class RequestFailed {
  constructor(readonly error: unknown) {}
}

export class PoolStage {
  readonly #spec: CpuSpec;
  readonly #input: Inlet<unknown>;
  readonly #output: Outlet<unknown> | undefined;
  readonly #stats: StageStats;
  readonly #run: RunControl;
  /** Next batch number to hand out (ordered: at take; unordered: at finish). */
  #nextSeq = 0;
  /** Lets finished batches out in number order, one at a time; the held bounds below are the window. */
  readonly #emitter: OrderedEmitter<Finished>;
  readonly #retrySchedule: RetrySchedule;
  #window = 4;
  /** Batches and items taken and not yet emitted; lanes wait while either is at its bound. */
  #heldBatches = 0;
  #heldItems = 0;
  #roomWaiters: (() => void)[] = [];
  /** The executor's busy time when the stage opened it: a shared pool also works for other stages. */
  #busyAtStart = 0;
  #loopAtStart = 0;
  /** The batch size to take now, resolved once per run from the executor's optional parts. */
  #batchSize: () => number = () => 1;
  /** Whether the executor says how long its workers were busy; resolved once per run. */
  #reportsBusy = false;

  constructor(
    spec: CpuSpec,
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
    this.#emitter = new OrderedEmitter(this.#release, Number.POSITIVE_INFINITY, run);
    this.#retrySchedule = {
      policy: spec.retry,
      clock: run.clock,
      signal: run.signal,
      canRetry: (error) =>
        !(error instanceof RequestFailed) && !(isSluiceError(error) && notRetryable.has(error.code)),
      onRetry: () => {
        stats.retries++;
      },
    };
  }

  async start(): Promise<void> {
    const spec = this.#spec;
    const executor = openExecutor(spec.task.executor, spec.module, { stage: spec.name });
    let unwatch: (() => void) | undefined;
    try {
      this.#resolveOptionalParts(executor);
      const lanes = executor.capacity;
      this.#window = lanes * 2;
      // A stopped run emits nothing more: lanes waiting for room must see the stop and leave.
      unwatch = watchAbort(this.#run.signal, this.#wakeLanes);
      const running: Promise<void>[] = [];
      for (let i = 0; i < lanes; i++) running.push(this.#lane(executor));
      await Promise.all(running);
      await this.#emitter.drained();
      this.#output?.close();
    } finally {
      unwatch?.();
      await executor.close();
    }
  }

  /** Reads the contract's optional parts once, so that no batch pays for asking. */
  #resolveOptionalParts(executor: Executor<unknown, unknown>): void {
    const { timeout } = this.#spec;
    const sizeFor = executor.batchSizeFor;
    // At least one: an executor asking for none would leave its lanes spinning on an empty take.
    this.#batchSize =
      sizeFor === undefined
        ? () => Math.max(1, executor.batchSize)
        : () => Math.max(1, sizeFor.call(executor, timeout));
    if (typeof executor.report === 'function')
      this.#stats.executor = executor as { report(): Readonly<Record<string, unknown>> };
    this.#reportsBusy = executor.busyMs !== undefined;
    this.#busyAtStart = executor.busyMs ?? 0;
    this.#loopAtStart = executor.loopMs ?? 0;
    const ready = executor.ready?.();
    if (ready === undefined) {
      this.#stats.readyAtMs = performance.now();
      return;
    }
    // Workers starting up are not idle for want of work: the stage's busy share counts from here.
    ready.then(
      () => {
        this.#stats.readyAtMs = performance.now();
      },
      () => undefined, // an executor that cannot start fails the stage through execute()
    );
  }

  async #lane(executor: Executor<unknown, unknown>): Promise<void> {
    const ordered = this.#spec.ordered && this.#output !== undefined;
    for (;;) {
      if (this.#run.stopped) return;
      const size = this.#batchSize();
      if (!this.#hasRoomFor(size)) {
        await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
        continue;
      }
      const items = this.#input.tryPullMany(size);
      if (items.length === 0) {
        if (this.#input.done || !(await this.#input.readable())) return;
        continue;
      }
      this.#heldBatches++;
      this.#heldItems += items.length;
      const first = this.#stats.entered;
      this.#stats.entered += items.length;
      const seq = ordered ? this.#nextSeq++ : -1;
      let outcome: BatchOutcome<unknown>;
      const sentAt = performance.now();
      try {
        outcome = await this.#execute(executor, items, first);
        // The batch's latency is each item's: from leaving the stage to coming back, off the loop.
        this.#stats.metrics.record(0, performance.now() - sentAt, false, items.length);
        if (this.#reportsBusy) this.#stats.workerBusyMs = (executor.busyMs as number) - this.#busyAtStart;
        this.#stats.loopMs = (executor.loopMs ?? 0) - this.#loopAtStart;
      } catch (error) {
        if (this.#run.stopped) return;
        // The request as a whole failed: the task cannot load, or the executor was closed under us.
        this.#stats.failed += items.length;
        this.#run.fail(
          new StageError(`Stage "${this.#spec.name}" cannot run its task: ${errorMessage(error)}`, {
            cause: error,
            stage: this.#spec.name,
            index: first,
          }),
        );
        return;
      }
      if (this.#run.stopped) return;
      this.#emitter.put(ordered ? seq : this.#nextSeq++, { items, first, outcome });
    }
  }

  #hasRoomFor(size: number): boolean {
    if (this.#heldBatches === 0) return true;
    return this.#heldBatches < this.#window && this.#heldItems + size <= HELD_ITEMS;
  }

  readonly #wakeLanes = (): void => {
    if (this.#roomWaiters.length > 0) for (const wake of this.#roomWaiters.splice(0)) wake();
  };

  /** Runs a batch; items that failed are retried on the stage's schedule, each on its own. */
  async #execute(
    executor: Executor<unknown, unknown>,
    items: unknown[],
    first: number,
  ): Promise<BatchOutcome<unknown>> {
    const { timeout } = this.#spec;
    const signal = this.#run.signal;
    const outcome = await executor.execute({
      items,
      first,
      signal,
      // Items ready behind this batch: an array source's rest, a channel's buffer.
      backlog: this.#input.size,
      ...(timeout === undefined ? {} : { timeout }),
    });
    const errors = outcome.errors;
    if (errors === undefined) return outcome;
    const retries: Promise<void>[] = [];
    for (const [i, error] of errors.entries()) {
      if (error === undefined) continue;
      retries.push(
        this.#retry(executor, items[i], first + i, error).then((result) => {
          if (result instanceof RetriesExhausted) errors[i] = result;
          else {
            errors[i] = undefined;
            outcome.values[i] = result.value;
          }
        }),
      );
    }
    await Promise.all(retries);
    return outcome;
  }

  /** Retries an item that failed in its batch, alone, through the one retry loop. */
  async #retry(
    executor: Executor<unknown, unknown>,
    item: unknown,
    index: number,
    error: unknown,
  ): Promise<RetriesExhausted | { value: unknown }> {
    const { timeout } = this.#spec;
    const stats = this.#stats;
    const signal = this.#run.signal;
    if (isSluiceError(error, 'SLUICE_ERR_TIMEOUT')) stats.timeouts++;
    try {
      const value = await retrying(
        async (attempt) => {
          let outcome: BatchOutcome<unknown>;
          try {
            outcome = await executor.execute({
              items: [item],
              first: index,
              attempt,
              signal,
              ...(timeout === undefined ? {} : { timeout }),
            });
          } catch (requestError) {
            throw new RequestFailed(requestError);
          }
          const failure = outcome.errors?.[0];
          if (failure === undefined) return outcome.values[0];
          if (isSluiceError(failure, 'SLUICE_ERR_TIMEOUT')) stats.timeouts++;
          throw failure;
        },
        this.#retrySchedule,
        { error, attempt: 1 },
      );
      return { value };
    } catch (thrown) {
      if (!(thrown instanceof RetriesExhausted)) throw thrown;
      if (thrown.error instanceof RequestFailed) throw thrown.error.error;
      return thrown;
    }
  }

  /** The emitter's release: one batch's outcomes go out, then the lanes may take what it held. */
  readonly #release = async (batch: Finished): Promise<void> => {
    await this.#emit(batch);
    this.#heldBatches--;
    this.#heldItems -= batch.items.length;
    this.#wakeLanes();
  };

  /** One item's value went out. */
  readonly #countEmitted = (): void => {
    this.#stats.emitted++;
    this.#stats.outputs++;
  };

  async #emit({ items, first, outcome }: Finished): Promise<void> {
    const { values, errors } = outcome;
    const output = this.#output;
    const stats = this.#stats;
    if (errors === undefined && output !== undefined) {
      // No item failed: as many as fit go in one call, then one waits for room, and so on.
      for (let i = 0; i < items.length && !this.#run.stopped; ) {
        const next = output.tryPushMany(values, i, items.length);
        stats.emitted += next - i;
        stats.outputs += next - i;
        i = next;
        if (i === items.length) break;
        const wait = handOn(output, values[i], this.#run, this.#countEmitted);
        if (wait !== undefined && !(await wait)) return;
        i++;
      }
      return;
    }
    for (let i = 0; i < items.length; i++) {
      if (this.#run.stopped) return;
      const error = errors?.[i];
      if (errors !== undefined && error !== undefined) {
        await settleFailure(this.#spec, stats, this.#run, items[i], first + i, error);
        continue;
      }
      if (output === undefined) {
        stats.emitted++;
        stats.outputs++;
      } else {
        const wait = handOn(output, values[i], this.#run, this.#countEmitted);
        if (wait !== undefined && !(await wait)) return;
      }
    }
  }
}
