/**
 * The calling thread as a stand-in worker while the pool's workers start. A cold pool pays for
 * starting each worker, loading the task module (and what it imports, and a TypeScript loader)
 * into it and warming its JIT before the first item runs: 50 ms to a second, longer than a whole
 * job of 10,000 two-microsecond items takes on one thread. Until a worker is ready, the dispatcher
 * runs the head of its queue here, in slices of about SLICE_MS with a turn of the event loop
 * between them, so a job that ends before the workers are up does not wait for them, and a larger
 * one has done part of its work by the time they are. It stops once every worker is ready, and
 * stands aside while a worker for every core starts (the dispatcher decides both): with as many
 * workers as cores, items run here beside them only slow them down.
 *
 * Items and results are copied as crossing a thread copies them (flat records one by one, to what
 * their columns would give, record-columns.ts; anything else by structured clone), and errors
 * cross the same serialisation, so a value or an error looks the same whichever side ran it.
 *
 * What runs here must be safe and short on the calling thread, so the dispatcher only offers it
 * thread-isolated work without resource limits, deadlines or moved buffers, and this module turns
 * itself off for a task with a `setup` (state that may be heavy or hold resources belongs in the
 * workers) and as soon as one item takes longer than MAX_ITEM_MS (the event loop's budget).
 *
 * A task may end its worker on purpose or by mistake (`process.exit()`); on a worker that is a
 * crash the pool recovers from, on the calling thread it would end the program. While a task runs
 * here, `process.exit()` throws instead: the item, and those after it, go to the workers, which run
 * them as they would have, and the head start stops for good. (What the task did before calling it
 * is done twice, as for any item retried after a crash.)
 */

import type { Clock } from '../../core/clock.js';
import { toWire, type WireError } from '../../core/error-wire.js';
import { DataCloneError, errorMessage } from '../../core/errors.js';
import { isThenable } from '../../core/thenable.js';
import { isTaskDefinition, type TaskContext, type TaskDefinition, unwrapMoved } from '../task.js';
import type { DoneMessage } from './protocol.js';
import { copyRecords } from './record-columns.js';

/** Calling-thread time per slice before the event loop gets a turn. */
export const SLICE_MS = 5;
/** An item slower than this never runs on the calling thread again: it would stall the loop. */
export const MAX_ITEM_MS = 20;

/** What a worker's reply carries, so that the dispatcher treats both alike. */
export interface HeadStartResult extends Pick<DoneMessage, 'errors' | 'busyMs'> {
  readonly values: unknown[];
  /**
   * The position of the item that called `process.exit()`: it and the items after it did not run
   * here (`values` holds those before it), and only workers may run them.
   */
  readonly exitedAt?: number;
}

export interface HeadStartRequest {
  readonly items: readonly unknown[];
  /** Index of the first item, as `ctx.index`. */
  readonly first: number;
  readonly attempt: number;
  /** The request's own signal: what `ctx.signal` reports. */
  readonly signal: AbortSignal | undefined;
}

/** Whether a pool so configured runs items on the calling thread while its workers start. */
export function hasHeadStart(options: {
  readonly headStart: boolean;
  readonly isolation: string;
  readonly resourceLimits: unknown;
}): boolean {
  // Only a stand-in for thread workers, and only for work the user has not fenced: a memory limit
  // says the task must not run where it cannot be stopped.
  return options.headStart && options.isolation === 'thread' && options.resourceLimits === undefined;
}

/**
 * Starts loading a task module on this thread as soon as a stage names it (`cpu(url)`), for the
 * head start of the stage's first run: loading it takes a cold process 2 to 3 ms alone, and 5 to
 * 7 ms when it waits for the run to start and then shares the thread with it (bench/RESULTS.md).
 * A program that names its stages before it runs them has it loaded by then. The module is
 * loaded once in a process, whoever asks: the head start's own `import()` of the same URL takes
 * the load under way. A module that fails to load here fails there too, where that is handled.
 */
export function preloadTask(url: string): void {
  import(url).then(ignore, ignore);
}

function ignore(): void {}

type State = 'loading' | 'ready' | 'off';

const neverAborted = new AbortController().signal;

/** What `process.exit()` does while a task runs on the calling thread. */
class ExitRefused extends Error {}
function refuseExit(): never {
  throw new ExitRefused('process.exit() is not run on the calling thread: a worker runs this item');
}

export class HeadStart {
  #state: State = 'loading';
  #task: TaskDefinition<unknown, unknown, unknown> | undefined;

  readonly #clock: Clock;

  /**
   * Imports the task module on this thread; `onSettled` says whether it can run items. Items are
   * timed on `clock`: the pool's plan rests on these times, and tests set them exactly.
   */
  constructor(taskUrl: string, clock: Clock, onSettled: (ready: boolean) => void) {
    this.#clock = clock;
    import(taskUrl).then(
      (exports: { default?: unknown }) => {
        if (this.#state === 'off') return;
        const task = exports.default;
        // A module the workers will reject, or a task with state of its own: the workers only.
        if (!isTaskDefinition(task) || task.setup !== undefined) {
          this.#state = 'off';
          onSettled(false);
          return;
        }
        this.#task = task;
        this.#state = 'ready';
        onSettled(true);
      },
      () => {
        // The workers load it themselves and report why it fails (or load it with a loader this
        // thread lacks, as a TypeScript task under plain node).
        if (this.#state === 'off') return;
        this.#state = 'off';
        onSettled(false);
      },
    );
  }

  get ready(): boolean {
    return this.#state === 'ready';
  }

  /** Stops for good: the workers are up, the pool is closing, or the items are too large. */
  stop(): void {
    this.#state = 'off';
    this.#task = undefined;
  }

  /**
   * Runs a request's items one after another on this thread. Synchronous while the task is;
   * the first promise a task returns makes the rest of the request wait for it.
   * Throws the clone error when an item cannot be copied, as posting it to a worker would.
   */
  run(request: HeadStartRequest): HeadStartResult | Promise<HeadStartResult> {
    const task = this.#task;
    if (task === undefined) throw new Error('The head start is not ready');
    const startedAt = this.#clock.now();
    const items = copyOf(request.items);
    const values = resultsArray(items.length);
    let errors: (WireError | undefined)[] | undefined;
    const calls = new Calls();
    const exit = process.exit;
    process.exit = refuseExit;
    try {
      while (calls.at < items.length) {
        try {
          callEach(task, request, items, values, calls);
          const pending = calls.pending;
          if (pending !== undefined)
            return this.#continueAsync(task, request, items, values, errors, calls.at, pending, startedAt);
        } catch (error) {
          const i = calls.at;
          if (error instanceof ExitRefused) return this.#timed(exited(request, values, errors, i), startedAt);
          errors ??= [];
          errors[i] = toWire(error);
          calls.at = i + 1;
        }
      }
    } finally {
      process.exit = exit;
    }
    return this.#timed(finish(request, values, errors), startedAt);
  }

  async #continueAsync(
    task: TaskDefinition<unknown, unknown, unknown>,
    request: HeadStartRequest,
    items: unknown[],
    values: unknown[],
    errors: (WireError | undefined)[] | undefined,
    from: number,
    pending: PromiseLike<unknown>,
    startedAt: number,
  ): Promise<HeadStartResult> {
    for (let i = from; i < items.length; i++) {
      try {
        values[i] =
          i === from ? await pending : await callRefusingExit(task, items[i], contextFor(request, i));
      } catch (error) {
        if (error instanceof ExitRefused) return this.#timed(exited(request, values, errors, i), startedAt);
        errors ??= [];
        errors[i] = toWire(error);
      }
    }
    return this.#timed(finish(request, values, errors), startedAt);
  }

  /** The result with the time the calling thread spent on it, copies included. */
  #timed(result: Untimed, startedAt: number): HeadStartResult {
    return { ...result, busyMs: this.#clock.now() - startedAt };
  }
}

type Untimed = Omit<HeadStartResult, 'busyMs'>;

/** How far `callEach` got: the item it is calling (or the next one), and a thenable one returned. */
class Calls {
  at = 0;
  pending: PromiseLike<unknown> | undefined = undefined;
}

/**
 * Calls the task for items `calls.at` onwards until one returns a thenable (`calls.pending`) or
 * throws (`calls.at` is then that item): a loop with no try of its own. A try around each call
 * cost a task 5% (a loop to a number given) to 35% (a loop to a record's `n`) of its speed here
 * and on the workers (bench/RESULTS.md): V8 compiles what is inlined inside a try for the
 * exceptions any of it may throw. The caller catches, records the error and calls again from the
 * next item.
 */
function callEach(
  task: TaskDefinition<unknown, unknown, unknown>,
  request: HeadStartRequest,
  items: readonly unknown[],
  values: unknown[],
  calls: Calls,
): void {
  for (let i = calls.at; i < items.length; i++) {
    calls.at = i;
    const result = task.fn(items[i], contextFor(request, i));
    if (isThenable(result)) {
      calls.pending = result;
      return;
    }
    values[i] = result;
  }
  calls.at = items.length;
}

/** One call of the task with `process.exit()` refused, for the items after an await. */
function callRefusingExit(
  task: TaskDefinition<unknown, unknown, unknown>,
  item: unknown,
  ctx: TaskContext<undefined>,
): unknown {
  const exit = process.exit;
  process.exit = refuseExit;
  try {
    return task.fn(item, ctx);
  } finally {
    process.exit = exit;
  }
}

/** The items before `position`, finished; the rest are the workers'. */
function exited(
  request: HeadStartRequest,
  values: unknown[],
  errors: (WireError | undefined)[] | undefined,
  position: number,
): Untimed {
  const done = finish(request, values.slice(0, position), errors?.slice(0, position));
  return { ...done, exitedAt: position };
}

/**
 * A copy of `values` as a worker would receive it: the same array when every value is a primitive
 * (a clone would give back equal values, and the check costs far less than the clone on the small
 * items that benefit from a head start at all), the records copied one by one when they are flat
 * records (what crossing as columns gives), else a structured clone.
 */
function copyOf(values: readonly unknown[]): unknown[] {
  for (const value of values) {
    if ((typeof value === 'object' && value !== null) || typeof value === 'function')
      return copyRecords(values) ?? (structuredClone(values) as unknown[]);
  }
  return values as unknown[];
}

/**
 * An array for a piece's results of the elements kind a worker's reply has (a structured clone's:
 * any value, with holes). The calling thread hands both on in the same functions; results of
 * numbers here in an array of doubles gave them a second shape, and V8 threw their compiled code
 * away and compiled it again (bench/RESULTS.md).
 */
function resultsArray(length: number): unknown[] {
  return new Array<unknown>(length).fill(undefined);
}

function contextFor(request: HeadStartRequest, position: number): TaskContext<undefined> {
  return {
    index: request.first + position,
    attempt: request.attempt,
    state: undefined,
    signal: request.signal ?? neverAborted,
  };
}

/** Copies the results back as a worker's reply would carry them: a result that cannot be copied fails alone. */
function finish(
  request: HeadStartRequest,
  values: unknown[],
  errors: (WireError | undefined)[] | undefined,
): Untimed {
  const transfer = unwrapMoved(values);
  let copied: unknown[];
  try {
    copied =
      transfer.length === 0 ? copyOf(values) : structuredClone(values, { transfer: transfer as never });
  } catch {
    copied = values.map((value, i) => {
      try {
        return structuredClone(value);
      } catch (cloneError) {
        errors ??= [];
        errors[i] = toWire(
          new DataCloneError(
            `The task's result for item ${request.first + i} cannot be sent back: ${errorMessage(cloneError)}`,
            { index: request.first + i },
          ),
        );
        return undefined;
      }
    });
  }
  return { values: copied, errors };
}
