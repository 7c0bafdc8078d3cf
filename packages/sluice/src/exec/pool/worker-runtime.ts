/**
 * The worker's side of the pool, for worker threads, child processes and the in-process executor
 * alike (worker-entry.ts connects it to a thread or a process): load the task
 * module, run its setup once, then run each batch it is sent, item by item, and answer with one
 * message per batch. Batches run one at a time, in the order they arrive.
 *
 * A thread worker also publishes, in a shared control block, which batch and item it is running
 * and when the item started: the pool reads it to blame the right item when the worker dies and
 * to replace a worker whose task ignored its deadline. Nothing else is shared.
 */
import type { TransferListItem } from 'node:worker_threads';
import { clearLongTimeout, setLongTimeout } from '../../core/clock.js';
import { toWire, type WireError } from '../../core/error-wire.js';
import {
  AbortError,
  DataCloneError,
  errorMessage,
  TaskModuleError,
  TaskSetupError,
  TimeoutError,
} from '../../core/errors.js';
import { isThenable } from '../../core/thenable.js';
import { isTaskDefinition, type TaskContext, type TaskDefinition, unwrapMoved } from '../task.js';
import {
  type BatchMessage,
  CANCEL_RING_SIZE,
  CONTROL_BATCH,
  CONTROL_CANCEL_RING,
  CONTROL_ITEM,
  controlViews,
  type DoneMessage,
  epochNow,
  type FromWorker,
  type ToWorker,
} from './protocol.js';
import { fromColumns, isColumns, type RecordColumns, toColumns } from './record-columns.js';

/** How the runtime talks to its pool: a thread's parentPort, a process's IPC channel, or a call. */
export interface Port {
  post(message: FromWorker, transfer?: TransferListItem[]): void;
  onMessage(listener: (message: ToWorker) => void): void;
  /**
   * True when what is posted arrives as a copy (a thread, a process): results that are flat
   * records then go as columns. The in-process executor hands them over by reference.
   */
  readonly copies: boolean;
}

/**
 * A batch as the runtime runs it: its items in a packed array, and the columns they came as (its
 * results may echo them: see `toColumns`).
 */
type Batch = BatchMessage & { readonly items: unknown[]; readonly columns: RecordColumns | undefined };
/** A batch's answer before it is posted: its results in an array. */
type Finished = DoneMessage & { readonly values: unknown[] };

const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')?.get as (
  this: AbortSignal,
) => boolean;

export class WorkerRuntime {
  readonly #port: Port;
  readonly #ints: Int32Array | undefined;
  readonly #started: Float64Array | undefined;
  #task: TaskDefinition<unknown, unknown, unknown> | undefined;
  #state: unknown;
  readonly #queue: Batch[] = [];
  #busy = false;
  /** Cancelled batch ids, for process workers (threads read the shared ring). */
  readonly #cancelled = new Set<number>();
  /** The controller of the item running now, if its task asked for a signal. */
  #current: AbortController | undefined;
  #currentBatch = 0;

  constructor(port: Port, control: SharedArrayBuffer | undefined) {
    this.#port = port;
    if (control !== undefined) {
      const views = controlViews(control);
      this.#ints = views.ints;
      this.#started = views.started;
    }
  }

  async load(taskUrl: string): Promise<void> {
    let exports: { default?: unknown };
    try {
      exports = (await import(taskUrl)) as { default?: unknown };
    } catch (error) {
      const message = `The task module ${taskUrl} could not be loaded: ${errorMessage(error)}`;
      this.#initError(new TaskModuleError(message, { cause: error }));
      return;
    }
    if (!isTaskDefinition(exports.default)) {
      this.#initError(
        new TaskModuleError(
          `The task module ${taskUrl} has no task as its default export: write \`export default defineTask(fn)\``,
        ),
      );
      return;
    }
    this.#task = exports.default;
    try {
      this.#state = await this.#task.setup?.();
    } catch (error) {
      const message = `The setup of task module ${taskUrl} threw: ${errorMessage(error)}`;
      this.#initError(new TaskSetupError(message, { cause: error }));
      return;
    }
    this.#port.onMessage((message) => this.#receive(message));
    this.#port.post({ type: 'ready' });
  }

  #initError(error: Error): void {
    this.#port.post({ type: 'init-error', error: toWire(error) });
  }

  /**
   * Stops a runtime that shares its thread with the pool (the in-process executor), whose thread
   * cannot be terminated: batches not started are dropped and the running item's signal aborts.
   */
  stop(): void {
    this.#queue.length = 0;
    this.#current?.abort(new AbortError('The executor was closed'));
  }

  #receive(message: ToWorker): void {
    if (message.type === 'cancel') {
      this.#cancelled.add(message.id);
      if (message.id === this.#currentBatch) this.#current?.abort(new AbortError('The batch was cancelled'));
      return;
    }
    const { items } = message;
    // Built as a literal, not spread from the message: an object spread from a message takes the
    // message's shape, whose field types V8 widened as batches of other arrays came, and code the
    // JIT compiled for the first shape was thrown away at the next (bench/RESULTS.md).
    this.#queue.push({
      type: 'batch',
      id: message.id,
      items: isColumns(items) ? fromColumns(items) : packed(items),
      columns: isColumns(items) ? items : undefined,
      first: message.first,
      attempt: message.attempt,
      timeout: message.timeout,
    });
    if (!this.#busy) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      for (let batch = this.#queue.shift(); batch !== undefined; batch = this.#queue.shift()) {
        const done = this.#runBatch(batch);
        this.#reply(done instanceof Promise ? await done : done, batch.columns);
      }
    } finally {
      this.#busy = false;
    }
  }

  #isCancelled(id: number): boolean {
    const ints = this.#ints;
    if (ints !== undefined) return Atomics.load(ints, CONTROL_CANCEL_RING + (id % CANCEL_RING_SIZE)) === id;
    return this.#cancelled.has(id);
  }

  /**
   * Runs a batch. Stays synchronous for as long as the task does, so a batch of synchronous calls
   * costs no promise at all; the first thenable a task returns switches to the async path.
   */
  #runBatch(
    batch: Batch,
    from = 0,
    values: unknown[] = [],
    errors?: (WireError | undefined)[],
  ): Finished | Promise<Finished> {
    const startedAt = from === 0 ? performance.now() : undefined;
    const { items, id } = batch;
    const ints = this.#ints;
    this.#currentBatch = id;
    if (ints !== undefined) Atomics.store(ints, CONTROL_BATCH, id);
    const calls = new Calls(from);
    while (calls.at < items.length) {
      try {
        this.#callEach(batch, values, calls);
        const { pending, ctx } = calls;
        if (pending !== undefined && ctx !== undefined)
          return this.#continueAsync(batch, calls.at, ctx, pending, values, errors, startedAt);
        if (calls.cancelled) {
          errors ??= [];
          for (let j = calls.at; j < items.length; j++)
            errors[j] = toWire(new AbortError('The batch was cancelled'));
          break;
        }
      } catch (error) {
        const ctx = calls.ctx;
        ctx?.finish();
        errors ??= [];
        errors[calls.at] = toWire(ctx?.overran() ? ctx.timeoutError() : error);
        calls.at++;
      }
    }
    if (ints !== undefined) Atomics.store(ints, CONTROL_ITEM, -1);
    this.#currentBatch = 0;
    // Wall time, not CPU time: process.cpuUsage() counts every thread of the process.
    return {
      type: 'done',
      id,
      first: batch.first,
      values,
      errors,
      busyMs: startedAt === undefined ? 0 : performance.now() - startedAt,
    };
  }

  /**
   * Calls the task for the batch's items from `calls.at` until one returns a thenable
   * (`calls.pending`), the batch is cancelled (`calls.cancelled`) or a call throws (`calls.at` is
   * then its item): a loop with no try of its own, for the reason `callEach` in head-start.ts
   * gives (a try around each call cost a task up to 35% of its speed). `#runBatch` catches.
   */
  #callEach(batch: Batch, values: unknown[], calls: Calls): void {
    const { items, id } = batch;
    const ints = this.#ints;
    const task = this.#task as TaskDefinition<unknown, unknown, unknown>;
    for (let i = calls.at; i < items.length; i++) {
      calls.at = i;
      calls.ctx = undefined;
      if (this.#isCancelled(id)) {
        calls.cancelled = true;
        return;
      }
      if (ints !== undefined) {
        Atomics.store(ints, CONTROL_ITEM, i);
        // Only the deadline watchdog reads the start time, and only for items with a deadline.
        if (batch.timeout !== undefined) (this.#started as Float64Array)[0] = epochNow();
      }
      const ctx = new WorkerTaskContext(this, batch, i);
      calls.ctx = ctx;
      const result = task.fn(items[i], ctx);
      if (isThenable(result)) {
        calls.pending = result;
        return;
      }
      ctx.finish();
      values[i] = result;
    }
    calls.at = items.length;
  }

  async #continueAsync(
    batch: Batch,
    i: number,
    ctx: WorkerTaskContext,
    pending: PromiseLike<unknown>,
    values: unknown[],
    errors: (WireError | undefined)[] | undefined,
    startedAt: number | undefined,
  ): Promise<Finished> {
    try {
      values[i] = await pending;
      ctx.finish();
      if (ctx.overran()) throw ctx.timeoutError();
    } catch (error) {
      ctx.finish();
      errors ??= [];
      errors[i] = toWire(ctx.overran() ? ctx.timeoutError() : error);
    }
    const rest = await this.#runBatch(batch, i + 1, values, errors);
    if (startedAt === undefined) return rest;
    return { ...rest, busyMs: performance.now() - startedAt };
  }

  /**
   * Sends a batch's results (as columns, echoing those of `items` they repeat, when they are flat
   * records); results that cannot be cloned fail one by one, the rest go through.
   */
  #reply(done: Finished, items: RecordColumns | undefined): void {
    const transfer = unwrapMoved(done.values);
    try {
      const columns = this.#port.copies ? toColumns(done.values, items) : undefined;
      this.#port.post(columns === undefined ? done : { ...done, values: columns }, transfer);
      return;
    } catch (error) {
      if (!isCloneError(error)) throw error;
    }
    const errors = done.errors ?? [];
    for (const [i, value] of done.values.entries()) {
      try {
        structuredClone(value);
      } catch (cloneError) {
        done.values[i] = undefined;
        errors[i] = toWire(
          new DataCloneError(
            `The task's result for item ${done.first + i} cannot be sent back: ${errorMessage(cloneError)}`,
            { index: done.first + i },
          ),
        );
      }
    }
    this.#port.post({ ...done, errors });
  }

  /** Called by a task's context: the abort check, run on every read of `signal.aborted`. */
  abortReason(ctx: WorkerTaskContext): Error | undefined {
    if (this.#isCancelled(ctx.batchId)) return new AbortError('The batch was cancelled');
    if (ctx.overran()) return ctx.timeoutError();
    return undefined;
  }

  get state(): unknown {
    return this.#state;
  }

  set current(controller: AbortController | undefined) {
    this.#current = controller;
  }
}

/** How far `#callEach` got through a batch (see there). */
class Calls {
  /** The item being called, or the next one. */
  at: number;
  /** The context of the item at `at`, once made. */
  ctx: WorkerTaskContext | undefined = undefined;
  pending: PromiseLike<unknown> | undefined = undefined;
  cancelled = false;

  constructor(from: number) {
    this.at = from;
  }
}

/**
 * The same items in a packed array. A structured clone hands a worker its batch as a holey array,
 * and V8 types a value read from a holey array loosely: a task that loops up to a number it was
 * given ran 18% slower per item than the same loop over the caller's packed array (1,000,000
 * sums of i*i below 2,000 on one worker: 2.06 s against 1.80 s once repacked). Copying the
 * references costs a few nanoseconds an item.
 */
function packed(items: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < items.length; i++) out.push(items[i]);
  return out;
}

class WorkerTaskContext implements TaskContext<unknown> {
  readonly index: number;
  readonly attempt: number;
  readonly batchId: number;
  readonly #runtime: WorkerRuntime;
  readonly #timeout: number | undefined;
  readonly #startedAt: number;
  #controller: AbortController | undefined;
  #timer: ReturnType<typeof setLongTimeout> | undefined;
  #state: unknown;

  constructor(runtime: WorkerRuntime, batch: Batch, position: number) {
    this.#runtime = runtime;
    this.index = batch.first + position;
    this.attempt = batch.attempt;
    this.batchId = batch.id;
    this.#timeout = batch.timeout;
    this.#startedAt = batch.timeout === undefined ? 0 : performance.now();
    this.#state = runtime.state;
  }

  get state(): unknown {
    return this.#state;
  }

  /** Made on first use: most tasks never look at their signal, and a controller per item costs. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const controller = new AbortController();
      this.#controller = controller;
      this.#runtime.current = controller;
      const signal = controller.signal;
      const runtime = this.#runtime;
      const poll = (): boolean => {
        if (!abortedGetter.call(signal)) {
          const reason = runtime.abortReason(this);
          if (reason !== undefined) controller.abort(reason);
        }
        return abortedGetter.call(signal);
      };
      // A real AbortSignal (fetch and friends accept it) whose flag is re-checked on every read,
      // so a synchronous loop sees its deadline even though no timer can fire while it runs.
      Object.defineProperty(signal, 'aborted', { get: poll, configurable: true });
      Object.defineProperty(signal, 'throwIfAborted', {
        value: () => {
          if (poll()) throw signal.reason;
        },
        configurable: true,
      });
      if (this.#timeout !== undefined) {
        const left = Math.max(0, this.#startedAt + this.#timeout - performance.now());
        this.#timer = setLongTimeout(() => controller.abort(this.timeoutError()), left);
      }
    }
    return this.#controller.signal;
  }

  overran(): boolean {
    return this.#timeout !== undefined && performance.now() - this.#startedAt > this.#timeout;
  }

  timeoutError(): Error {
    return new TimeoutError(`The task took longer than its ${this.#timeout} ms deadline`);
  }

  finish(): void {
    if (this.#timer !== undefined) clearLongTimeout(this.#timer);
    if (this.#controller !== undefined) this.#runtime.current = undefined;
  }
}

function isCloneError(error: unknown): boolean {
  return error instanceof Error && error.name === 'DataCloneError';
}
