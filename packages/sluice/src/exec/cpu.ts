/**
 * `cpu(url)`: the one word that moves a step off the event loop. It names a task module and where
 * to run it (an executor provider: worker threads by default); the flow opens an executor for each
 * run and closes it after. A pool given with `{ pool }` is shared, so the run leaves it open.
 */
import { basename } from 'node:path';
import { checkOptions, invalidType, invalidValue } from '../core/validate.js';
import { checkProvider, type ExecutorProvider } from './executor.js';
import {
  type KeepWarmOptions,
  type ProcessesOptions,
  processes,
  sharedPool,
  threads,
  workersOf,
} from './local-providers.js';
import { hasHeadStart, preloadTask } from './pool/head-start.js';
import { resolveTaskModule, type TaskModule } from './pool/task-module.js';
import { checkPoolOptions, poolKeys, WorkerPool, type WorkerPoolOptions } from './pool/worker-pool.js';

const cpuBrand = Symbol.for('sluice.cpu');

export interface CpuOptions extends WorkerPoolOptions, KeepWarmOptions {
  /**
   * A pool to run on, shared across stages and runs and closed by its owner. Without it, each
   * run takes the pool an earlier run of the same task left warm (`keepWarmMs`), or starts one.
   */
  pool?: WorkerPool;
  /**
   * Where the stage runs: `threads()`, `processes()`, `inProcess()`, or any other executor
   * provider (remote workers, say). Each run opens an executor from it and closes that executor
   * when the run ends. Not with `pool` or the pool options, which configure the default.
   * @default threads(options)
   * @example cpu(taskUrl, { executor: processes({ workers: 2 }) })
   */
  executor?: ExecutorProvider;
}

/** A task module as a flow stage: `flow(items).map(cpu<In, Out>(url))`. */
export interface CpuTask<In, Out> {
  readonly [cpuBrand]: true;
  /** The task module's file name without its extensions, the stage's default name. */
  readonly name: string;
  /** Workers the executor runs, when known: the stage report's concurrency. */
  readonly workers: number | undefined;
  /** Resolves the module, throwing SLUICE_ERR_TASK_NOT_FOUND (naming `owner`) when it does not exist. */
  resolve(owner: string): TaskModule;
  /** Where the stage runs: a run opens one executor from it and closes it at the end. */
  readonly executor: ExecutorProvider;
  /** Phantom fields for type inference only. */
  readonly __types?: { in: In; out: Out };
}

const cpuKeys = ['pool', 'executor', 'keepWarmMs', ...poolKeys] as const;

/**
 * A CPU-bound step, run on worker threads (or wherever `executor` says): pass it to `map`.
 * @example
 * const normalize = cpu<RawAsset, Asset>(new URL('./normalize.task.js', import.meta.url));
 * await flow(raws).map(normalize).forEach(save);
 */
export function cpu<In, Out>(task: URL | string, options?: CpuOptions): CpuTask<In, Out> {
  if (!(task instanceof URL) && typeof task !== 'string') {
    throw invalidType('cpu(task)', 'a file URL or an absolute path', task);
  }
  checkOptions('cpu options', options, cpuKeys);
  const file = basename(task instanceof URL ? task.pathname : task);
  const { executor, headStart } = executorOf(options);
  if (headStart) preload(task);
  return {
    [cpuBrand]: true,
    name: file.replace(/(\.task)?\.[cm]?[jt]s$/, '') || file,
    workers: workersOf(executor),
    resolve: (owner) => resolveTaskModule(owner, task),
    executor,
  };
}

/**
 * Loads the task module on this thread ahead of the first run's head start (see `preloadTask`).
 * A module that cannot be found is left to fail where the stage is written, as it always has.
 */
function preload(task: URL | string): void {
  let module: TaskModule;
  try {
    module = resolveTaskModule('cpu()', task);
  } catch {
    return;
  }
  preloadTask(module.url);
}

/**
 * The provider cpu()'s options name: the one given, a shared pool, or a pool of the options' kind;
 * and whether that pool has a head start of its own (a provider from elsewhere, or a shared pool,
 * loads the task where and when it chooses).
 */
function executorOf(options: CpuOptions | undefined): { executor: ExecutorProvider; headStart: boolean } {
  const { pool, executor, ...poolOptions } = options ?? {};
  if (executor !== undefined) {
    const given = checkProvider('cpu.executor', executor);
    const also = Object.entries({ pool, ...poolOptions })
      .filter(([, value]) => value !== undefined)
      .map(([key]) => key);
    if (also.length > 0) {
      throw invalidValue(
        'cpu options',
        `either "executor" or ${also.map((k) => `"${k}"`).join(', ')}`,
        options,
      );
    }
    return { executor: given, headStart: false };
  }
  if (pool !== undefined) {
    if (!(pool instanceof WorkerPool)) throw invalidType('cpu.pool', 'a WorkerPool', pool);
    return { executor: sharedPool(pool), headStart: false };
  }
  const { isolation, keepWarmMs: _checkedByTheProvider, ...rest } = poolOptions;
  // Checked here as a whole, so a bad option names the same field it always did.
  const checked = checkPoolOptions({ isolation, ...rest });
  const warm = poolOptions.keepWarmMs === undefined ? {} : { keepWarmMs: poolOptions.keepWarmMs };
  const local =
    isolation === 'process'
      ? processes({ ...withoutThreadLimits(rest), ...warm })
      : threads({ ...rest, ...warm });
  return { executor: local, headStart: hasHeadStart(checked) };
}

/** `headStart: true` passes through as it came: processes() refuses it with a coded error. */
function withoutThreadLimits(options: Omit<WorkerPoolOptions, 'isolation'>): ProcessesOptions {
  const { resourceLimits: _ignoredByProcesses, ...rest } = options;
  return rest as ProcessesOptions;
}

export function isCpuTask(value: unknown): value is CpuTask<unknown, unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[cpuBrand] === true;
}
