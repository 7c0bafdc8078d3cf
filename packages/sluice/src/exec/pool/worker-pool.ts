/**
 * The public worker pool: a task module run on other cores. Use it as a flow stage through
 * `cpu(url, { pool })`, or on its own, one item at a time (`run`, micro-batched behind the
 * scenes) or many at once (`runMany`, `execute`).
 */
import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import type { Clock } from '../../core/clock.js';
import {
  checkBoolean,
  checkInteger,
  checkNumber,
  checkOptions,
  invalidType,
  invalidValue,
} from '../../core/validate.js';
import type { BatchOutcome, BatchRequest, Executor } from '../executor.js';
import { Dispatcher, type DispatcherOptions } from './dispatcher.js';
import { resolveTaskModule } from './task-module.js';
import type { Isolation } from './worker-handle.js';

export interface WorkerPoolOptions {
  /** Workers to run. @default os.availableParallelism() */
  workers?: number;
  /**
   * `'thread'`: worker threads, cheap, buffers can be moved. `'process'`: child processes, for
   * code that is not thread-safe or must be killable hard; items are copied over IPC.
   * @default 'thread'
   */
  isolation?: Isolation;
  /** Memory limits per worker thread; a worker that exceeds them is replaced. */
  resourceLimits?: ResourceLimits;
  /**
   * How many times an item may crash its worker and be retried on a fresh one before it fails
   * with SLUICE_ERR_WORKER_CRASHED.
   * @default 2
   */
  maxCrashRetries?: number;
  /**
   * How long a task may run past its deadline (ignoring its signal) before its worker is replaced.
   * @default 1000
   */
  deadlineGraceMs?: number;
  /**
   * Lets the calling thread run items, in slices of a few milliseconds with a turn of the event
   * loop between them, until every worker is ready, and starts workers only as the job's measured
   * size says they pay off: a job the calling thread finishes in about 50 ms starts none, one of
   * up to about 400 ms starts all workers but one (the calling thread is the last), a longer one
   * all of them. Only for thread workers (with `isolation: 'process'` it is off, and `true` is
   * refused with SLUICE_ERR_INVALID_ARG_VALUE), and never for items with a deadline or moved
   * buffers, a task with `setup`, or a pool with `resourceLimits` (those start every worker at
   * once); it stops for good once every worker is ready, or as soon as items average more than
   * 20 ms each. Turn it off for a task that may exit the process (`process.exit`), throw outside
   * its call or exhaust memory: on the calling thread that takes the calling process down, where a
   * worker's crash is replaced and its item retried. A task with a `setup` never runs there.
   * @default true for thread workers, false for `isolation: 'process'`
   * @example cpu(taskUrl, { headStart: false }) // a task that may call process.exit()
   */
  headStart?: boolean;
  /**
   * For tests: the clock the pool times with: its deadline watchdog, and the head start's slices and
   * the item times its plan of workers rests on.
   */
  clock?: Clock;
}

export interface RunItemOptions {
  /** Milliseconds the task may run; its `ctx.signal` aborts at the deadline. */
  timeout?: number;
  signal?: AbortSignal;
}

/** Every WorkerPool option; `cpu()` takes these too. */
export const poolKeys = [
  'workers',
  'isolation',
  'resourceLimits',
  'maxCrashRetries',
  'deadlineGraceMs',
  'headStart',
  'clock',
] as const;

/**
 * A pool of workers running one task module.
 * @example
 * const pool = new WorkerPool<Raw, Asset>(new URL('./normalize.task.js', import.meta.url));
 * const asset = await pool.run(raw);
 * await pool.close();
 */
export class WorkerPool<In = unknown, Out = unknown> implements Executor<In, Out> {
  readonly #dispatcher: Dispatcher;
  /** Items given to run() in this turn of the event loop: they leave as one request. */
  #pending: PendingRun<In, Out>[] = [];
  #flushScheduled = false;
  #submitted = 0;

  constructor(task: URL | string, options?: WorkerPoolOptions) {
    const checked = checkPoolOptions(options);
    this.#dispatcher = new Dispatcher({ task: resolveTaskModule('WorkerPool', task), ...checked });
  }

  /** Workers started so far: with a head start, the pool starts them as its jobs ask, up to `workers`. */
  get size(): number {
    return this.#dispatcher.workers;
  }

  /** Batches it can usefully hold at once: per worker, one running and as many queued as keep it busy. */
  get capacity(): number {
    return this.#dispatcher.capacity;
  }

  /** Items per message the pool wants now, from the time items have been taking. */
  get batchSize(): number {
    return this.#dispatcher.batchSize;
  }

  /** Batch size for items with a deadline (process workers then take one item at a time). */
  batchSizeFor(timeout: number | undefined): number {
    return this.#dispatcher.batchSizeFor(timeout);
  }

  /** Smoothed milliseconds an item keeps a worker busy; undefined before the first batch. */
  get busyMsPerItem(): number | undefined {
    return this.#dispatcher.sizer.perItemMs;
  }

  /** Milliseconds the workers have spent running tasks since the pool opened, all told. */
  get busyMs(): number {
    return this.#dispatcher.busyMs;
  }

  /** Of `busyMs`, the milliseconds items ran on the calling thread while the workers started. */
  get loopMs(): number {
    return this.#dispatcher.loopMs;
  }

  /**
   * Starts every worker (a pool with a head start otherwise starts them as its jobs ask) and
   * resolves once all of them have loaded the task and run its setup.
   */
  ready(): Promise<void> {
    return this.#dispatcher.ready(true);
  }

  /**
   * Runs one item. Calls made in the same turn of the event loop travel together, in batches
   * the pool sizes, so a loop of `run` calls is not a message per item.
   * @example const results = await Promise.all(items.map((item) => pool.run(item)));
   */
  run(item: In, options?: RunItemOptions): Promise<Out> {
    // Items with their own options cannot share a request with others.
    if (options !== undefined) {
      return this.#runAlone(item, options);
    }
    return new Promise<Out>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  /** Runs many items; resolves with their results in order, or rejects with the first error. */
  async runMany(items: Iterable<In>, options?: RunItemOptions): Promise<Out[]> {
    const all = [...items];
    const outcome = await this.execute({ items: all, first: this.#claim(all.length), ...options });
    const error = outcome.errors?.find((e) => e !== undefined);
    if (outcome.errors !== undefined && error !== undefined) throw error;
    return outcome.values;
  }

  /** The Executor contract: one outcome per item. */
  execute(request: BatchRequest<In>): Promise<BatchOutcome<Out>> {
    return this.#dispatcher.execute(request) as Promise<BatchOutcome<Out>>;
  }

  /** Terminates every worker; requests still pending reject with SLUICE_ERR_POOL_CLOSED. */
  close(): Promise<void> {
    return this.#dispatcher.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #claim(count: number): number {
    const first = this.#submitted;
    this.#submitted += count;
    return first;
  }

  async #runAlone(item: In, options: RunItemOptions): Promise<Out> {
    const [value] = await this.runMany([item], options);
    return value as Out;
  }

  #flush(): void {
    this.#flushScheduled = false;
    const all = this.#pending;
    this.#pending = [];
    // One request per batch, not one for the whole turn: each call settles when its own batch
    // comes back, and the loop gets a turn between batches instead of settling 100,000 promises
    // in one go at the very end.
    const size = Math.max(1, this.batchSize);
    for (let from = 0; from < all.length; from += size) this.#request(all.slice(from, from + size));
  }

  #request(pending: PendingRun<In, Out>[]): void {
    this.execute({ items: pending.map((p) => p.item), first: this.#claim(pending.length) }).then(
      ({ values, errors }) => {
        for (const [i, p] of pending.entries()) {
          const error = errors?.[i];
          if (errors !== undefined && error !== undefined) p.reject(error);
          else p.resolve(values[i] as Out);
        }
      },
      (error: unknown) => {
        for (const p of pending) p.reject(error);
      },
    );
  }
}

/** A `run()` call waiting for its batch. */
interface PendingRun<In, Out> {
  item: In;
  resolve(value: Out): void;
  reject(error: unknown): void;
}

const resourceLimitKeys = [
  'maxOldGenerationSizeMb',
  'maxYoungGenerationSizeMb',
  'codeRangeSizeMb',
  'stackSizeMb',
] as const;

function checkResourceLimits(limits: ResourceLimits | undefined): ResourceLimits | undefined {
  checkOptions('WorkerPool.resourceLimits', limits, resourceLimitKeys);
  for (const key of resourceLimitKeys) {
    const value = limits?.[key];
    if (value !== undefined) checkNumber(`WorkerPool.resourceLimits.${key}`, value, { min: 1 });
  }
  return limits;
}

/**
 * Validates WorkerPool options at the door and fills in the defaults. `cpu()` calls it too, so a
 * bad option fails where the stage is written, not when a run first opens its pool.
 */
export function checkPoolOptions(options: WorkerPoolOptions | undefined): Omit<DispatcherOptions, 'task'> {
  checkOptions('WorkerPool options', options, poolKeys);
  const isolation = options?.isolation ?? 'thread';
  if (isolation !== 'thread' && isolation !== 'process') {
    throw invalidType('WorkerPool.isolation', `'thread' or 'process'`, isolation);
  }
  const headStart = checkBoolean('WorkerPool.headStart', options?.headStart ?? isolation === 'thread');
  if (headStart && isolation === 'process') {
    throw invalidValue(
      'headStart',
      "false or left out for child processes (processes(), isolation: 'process'): a head start runs items on the calling thread, which a pool of processes exists to avoid",
      true,
    );
  }
  return {
    workers: checkInteger('WorkerPool.workers', options?.workers ?? availableParallelism(), { min: 1 }),
    isolation,
    resourceLimits: checkResourceLimits(options?.resourceLimits),
    maxCrashRetries: checkInteger('WorkerPool.maxCrashRetries', options?.maxCrashRetries ?? 2, { min: 0 }),
    deadlineGraceMs: checkNumber('WorkerPool.deadlineGraceMs', options?.deadlineGraceMs ?? 1000),
    headStart,
    ...(options?.clock === undefined ? {} : { clock: options.clock }),
  };
}
