/**
 * The executor providers that run work on this machine: worker threads, child processes, and the
 * calling thread itself. All three open the same engine (the pool's Dispatcher) with a different
 * kind of worker, so batching, deadlines, crash recovery and error transport are one code path;
 * a provider only says where the workers live and how many there are. Thread and process pools
 * are kept warm between runs for `keepWarmMs` (pool/warm-pools.ts).
 */
import { checkNumber, checkOptions } from '../core/validate.js';
import type { Executor, ExecutorProvider, ResolvedTask } from './executor.js';
import { Dispatcher, type DispatcherOptions, MAX_PIPELINE } from './pool/dispatcher.js';
import { openWarm } from './pool/warm-pools.js';
import { checkPoolOptions, poolKeys, type WorkerPool, type WorkerPoolOptions } from './pool/worker-pool.js';

/** How long a run's pool stays warm for the next run, for the providers that start workers. */
export interface KeepWarmOptions {
  /**
   * Milliseconds a run's pool stays up once the run has ended, idle, for the next run of the same
   * task with the same options to take as it is: workers started, the task loaded, its code
   * warm. A program that runs many flows then starts workers once, not once per run. Idle
   * workers never hold the process open; 0 closes the pool with its run.
   * @default 5000
   * @example cpu(taskUrl, { keepWarmMs: 0 }) // every run starts and closes its own workers
   */
  keepWarmMs?: number;
}

/** Options of `threads()`: every WorkerPool option but `isolation`, and `keepWarmMs`. */
export type ThreadsOptions = Omit<WorkerPoolOptions, 'isolation'> & KeepWarmOptions;
/** Options of `processes()`: as `threads()`, without the threads' `resourceLimits`, and no head start. */
export interface ProcessesOptions
  extends Omit<WorkerPoolOptions, 'isolation' | 'resourceLimits' | 'headStart'>,
    KeepWarmOptions {
  /**
   * Refused: only `false` (or leaving it out) is accepted, and `true` is a
   * `SLUICE_ERR_INVALID_ARG_VALUE`. A head start runs the first items on the calling thread while
   * workers start, which is what a pool of processes is chosen to avoid: a task that is not
   * thread-safe, leaks, or must be killable hard would run in the caller's own process. Use
   * `threads()`, where it is on by default, for tasks that can run there.
   * @default false
   * @example processes({ workers: 2 })
   */
  headStart?: false;
}

export const DEFAULT_KEEP_WARM_MS = 5000;

const threadKeys = [...poolKeys.filter((key) => key !== 'isolation'), 'keepWarmMs'];
const processKeys = threadKeys.filter((key) => key !== 'resourceLimits');

/** Workers each provider made here runs, for the stage's report; a provider from elsewhere says nothing. */
const workerCounts = new WeakMap<ExecutorProvider, number>();

/**
 * Runs a cpu() stage on worker threads: the default. Each run takes a pool an earlier run of the
 * same task left warm, or starts one, and leaves it warm for `keepWarmMs` when it ends.
 * @example
 * const normalize = cpu<Raw, Asset>(taskUrl, { executor: threads({ workers: 4 }) });
 */
export function threads(options?: ThreadsOptions): ExecutorProvider {
  checkOptions('threads options', options, threadKeys);
  return warmProvider('threads', 'thread', options);
}

/**
 * Runs a cpu() stage on child processes: for code that is not thread-safe or must be killable
 * hard. Items and results are copied over IPC; buffers cannot be moved.
 * @example
 * const render = cpu<Page, Pdf>(taskUrl, { executor: processes({ workers: 2 }) });
 */
export function processes(options?: ProcessesOptions): ExecutorProvider {
  checkOptions('processes options', options, processKeys);
  return warmProvider('processes', 'process', options);
}

/** A provider whose runs share pools kept warm between them. */
function warmProvider(
  name: string,
  isolation: 'thread' | 'process',
  options: ThreadsOptions | undefined,
): ExecutorProvider {
  const { keepWarmMs = DEFAULT_KEEP_WARM_MS, ...poolOptions } = options ?? {};
  checkNumber(`${name}.keepWarmMs`, keepWarmMs);
  const checked = checkPoolOptions({ ...poolOptions, isolation });
  const { clock, ...rest } = checked;
  const warm = {
    key: JSON.stringify(rest satisfies Omit<DispatcherOptions, 'task' | 'clock'>),
    keepWarmMs,
    clock,
  };
  return localProvider(checked.workers, (task) =>
    openWarm(task, warm, (resolved) => new Dispatcher({ task: resolved, ...checked })),
  );
}

/**
 * Runs a cpu() stage's task module on the calling thread, one item at a time (an async task's
 * awaits let the rest of the flow run meanwhile). For tests and debugging: a breakpoint in the task
 * is hit in the main process, and nothing is copied. Deadlines, cancellation and error handling
 * behave as on the pools; a task that never yields blocks the event loop, as any code there does.
 * @example
 * const parse = cpu<string, Row>(taskUrl, { executor: inProcess() });
 */
export function inProcess(): ExecutorProvider {
  const checked = checkPoolOptions({ workers: 1 });
  return localProvider(1, (task) => new Dispatcher({ task, ...checked, isolation: 'inline' }));
}

/**
 * A pool given with `cpu(url, { pool })`: shared by stages and runs and closed by its owner, so a
 * run opens it as an executor whose `close()` leaves the pool running.
 */
export function sharedPool(pool: WorkerPool): ExecutorProvider {
  const borrowed: Executor<unknown, unknown> = {
    execute: (request) => pool.execute(request),
    get batchSize() {
      return pool.batchSize;
    },
    get capacity() {
      return pool.capacity;
    },
    close: () => Promise.resolve(),
    // No ready(): the pool's own would start every worker, where a pool with a head start starts
    // them as the job asks. A pool that cannot load its task fails the stage through execute().
    get busyMs() {
      return pool.busyMs;
    },
    get loopMs() {
      return pool.loopMs;
    },
    batchSizeFor: (timeout) => pool.batchSizeFor(timeout),
  };
  // Every worker it may run, started or not: a pool with a head start starts them as jobs ask.
  return localProvider(Math.ceil(pool.capacity / MAX_PIPELINE), () => borrowed);
}

/** Workers a provider runs, when it is one of the above. */
export function workersOf(provider: ExecutorProvider): number | undefined {
  return workerCounts.get(provider);
}

function localProvider(
  workers: number,
  open: (task: ResolvedTask) => Executor<unknown, unknown>,
): ExecutorProvider {
  const provider: ExecutorProvider = {
    open: <In, Out>(task: ResolvedTask) => open(task) as unknown as Executor<In, Out>,
  };
  workerCounts.set(provider, workers);
  return provider;
}
