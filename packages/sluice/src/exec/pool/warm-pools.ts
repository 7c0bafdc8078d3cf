/**
 * Pools kept warm between runs. `threads()` and `processes()` open a pool for every run of a
 * cpu() stage; starting one costs its workers' start, the task module's import and a cold JIT in
 * each (tens of milliseconds of CPU per worker, about as much as 20,000 two-microsecond items).
 * A program that runs many flows (a server running one per request, a loop over files) paid it
 * on every run. So a run's pool, when its run ends with nothing left in it, is parked here for
 * `keepWarmMs`, and the next run of the same task with the same options takes it as it is:
 * workers started, module loaded, JIT warm, batch size known.
 *
 * Rules it keeps:
 * - A parked pool never holds the process open: its workers are unref'd while nothing waits on
 *   them (the dispatcher's keep-alive rule) and its idle timer is unref'd.
 * - One user at a time: a pool is taken out of the cache while a run holds it, so two runs side
 *   by side get a pool each, as before.
 * - Only a clean pool is parked: open, not broken, with nothing queued or running (a cancelled
 *   item still running in a worker would hold up the next run). Anything else is closed.
 * - The idle timer runs on the pool's clock, so tests drive it with a FakeClock.
 */
import { type Clock, systemClock } from '../../core/clock.js';
import { PoolClosedError } from '../../core/errors.js';
import type { BatchOutcome, BatchRequest, Executor, ResolvedTask } from '../executor.js';
import type { Dispatcher } from './dispatcher.js';

interface Parked {
  readonly dispatcher: Dispatcher;
  readonly timer: unknown;
}

/** Idle pools by key, per clock: pools on a test's FakeClock never meet the system clock's. */
const byClock = new WeakMap<Clock, Map<string, Parked[]>>();

function parkedFor(clock: Clock): Map<string, Parked[]> {
  let parked = byClock.get(clock);
  if (parked === undefined) {
    parked = new Map();
    byClock.set(clock, parked);
  }
  return parked;
}

export interface WarmOptions {
  /** What makes two pools interchangeable: the task and every option the pool was built with. */
  readonly key: string;
  readonly keepWarmMs: number;
  readonly clock: Clock | undefined;
}

/**
 * Opens a run's executor on a parked pool of the same key, or on a new one from `create`. Its
 * `close()` parks the pool for `keepWarmMs` when it is clean, and closes it otherwise.
 */
export function openWarm(
  task: ResolvedTask,
  options: WarmOptions,
  create: (task: ResolvedTask) => Dispatcher,
): Executor<unknown, unknown> {
  const clock = options.clock ?? systemClock;
  const key = `${task.url}\n${options.key}`;
  const dispatcher = take(clock, key) ?? create(task);
  return new WarmLease(dispatcher, () => {
    if (options.keepWarmMs > 0 && dispatcher.idle) {
      park(clock, key, dispatcher, options.keepWarmMs);
      return Promise.resolve();
    }
    return dispatcher.close();
  });
}

function take(clock: Clock, key: string): Dispatcher | undefined {
  const parked = byClock.get(clock)?.get(key);
  for (let entry = parked?.pop(); entry !== undefined; entry = parked?.pop()) {
    clock.clearTimeout(entry.timer);
    // A worker may have died while parked: the dispatcher replaced it, and is still clean.
    if (entry.dispatcher.idle) return entry.dispatcher;
    void entry.dispatcher.close();
  }
  return undefined;
}

function park(clock: Clock, key: string, dispatcher: Dispatcher, keepWarmMs: number): void {
  const parked = parkedFor(clock);
  const list = parked.get(key) ?? [];
  parked.set(key, list);
  const timer = clock.setTimeout(() => {
    const at = list.findIndex((entry) => entry.dispatcher === dispatcher);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0 && parked.get(key) === list) parked.delete(key);
    void dispatcher.close();
  }, keepWarmMs);
  (timer as { unref?: () => void }).unref?.();
  list.push({ dispatcher, timer });
}

/**
 * One run's hold on a pool: the Executor the stage sees. After its `close()` it refuses work as
 * any closed executor does, whether its pool was parked or closed.
 */
class WarmLease implements Executor<unknown, unknown> {
  readonly #dispatcher: Dispatcher;
  readonly #release: () => Promise<void>;
  #closed = false;

  constructor(dispatcher: Dispatcher, release: () => Promise<void>) {
    this.#dispatcher = dispatcher;
    this.#release = release;
  }

  get batchSize(): number {
    return this.#dispatcher.batchSize;
  }

  get capacity(): number {
    return this.#dispatcher.capacity;
  }

  get busyMs(): number {
    return this.#dispatcher.busyMs;
  }

  get loopMs(): number {
    return this.#dispatcher.loopMs;
  }

  batchSizeFor(timeout: number | undefined): number {
    return this.#dispatcher.batchSizeFor(timeout);
  }

  ready(): Promise<void> {
    return this.#dispatcher.ready();
  }

  execute(request: BatchRequest<unknown>): Promise<BatchOutcome<unknown>> {
    if (this.#closed) return Promise.reject(new PoolClosedError('The worker pool is closed'));
    return this.#dispatcher.execute(request);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return this.#release();
  }
}
