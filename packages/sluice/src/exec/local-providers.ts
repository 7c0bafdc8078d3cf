/**
 * The executor providers that run work on this machine: worker threads, child processes, and the
 * calling thread itself. All three open the same engine (the pool's Dispatcher) with a different
 * kind of worker, so batching, deadlines, crash recovery and error transport are one code path;
 * a provider only says where the workers live and how many there are.
 */
import { checkOptions, invalidValue } from '../core/validate.js';
import type { Executor, ExecutorProvider, ResolvedTask } from './executor.js';
import { Dispatcher } from './pool/dispatcher.js';
import { checkPoolOptions, poolKeys, type WorkerPool, type WorkerPoolOptions } from './pool/worker-pool.js';

/** Options of `threads()`: every WorkerPool option but `isolation`. */
export type ThreadsOptions = Omit<WorkerPoolOptions, 'isolation'>;
/** Options of `processes()`: every WorkerPool option but `isolation` and the threads' `resourceLimits`. */
export interface ProcessesOptions
  extends Omit<WorkerPoolOptions, 'isolation' | 'resourceLimits' | 'headStart'> {
  /**
   * Refused: only `false` (or leaving it out) is accepted, and `true` is a
   * `SLUICE_ERR_INVALID_ARG_VALUE`. A head start runs the first items on the calling thread while
   * workers start, which is what a pool of processes is chosen to avoid: a task that is not
   * thread-safe, leaks, or must be killable hard would run in the caller's own process. Use
   * `threads({ headStart: true })` for tasks that can run there.
   * @default false
   * @example processes({ workers: 2 })
   */
  headStart?: false;
}

const threadKeys = poolKeys.filter((key) => key !== 'isolation');
const processKeys = threadKeys.filter((key) => key !== 'resourceLimits');

/** Workers each provider made here runs, for the stage's report; a provider from elsewhere says nothing. */
const workerCounts = new WeakMap<ExecutorProvider, number>();

/**
 * Runs a cpu() stage on worker threads: the default. Each run opens a pool of its own and closes
 * it when the run ends.
 * @example
 * const normalize = cpu<Raw, Asset>(taskUrl, { executor: threads({ workers: 4 }) });
 */
export function threads(options?: ThreadsOptions): ExecutorProvider {
  checkOptions('threads options', options, threadKeys);
  const checked = checkPoolOptions({ ...options, isolation: 'thread' });
  return localProvider(checked.workers, (task) => new Dispatcher({ task, ...checked }));
}

/**
 * Runs a cpu() stage on child processes: for code that is not thread-safe or must be killable
 * hard. Items and results are copied over IPC; buffers cannot be moved.
 * @example
 * const render = cpu<Page, Pdf>(taskUrl, { executor: processes({ workers: 2 }) });
 */
export function processes(options?: ProcessesOptions): ExecutorProvider {
  checkOptions('processes options', options, processKeys);
  const checked = checkPoolOptions({ ...options, isolation: 'process' });
  if (checked.headStart) {
    throw invalidValue(
      'headStart',
      "false or left out for child processes (processes(), isolation: 'process'): a head start runs items on the calling thread, which a pool of processes exists to avoid",
      options?.headStart,
    );
  }
  return localProvider(checked.workers, (task) => new Dispatcher({ task, ...checked }));
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
    ready: () => pool.ready(),
    get busyMs() {
      return pool.busyMs;
    },
    batchSizeFor: (timeout) => pool.batchSizeFor(timeout),
  };
  return localProvider(pool.size, () => borrowed);
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
