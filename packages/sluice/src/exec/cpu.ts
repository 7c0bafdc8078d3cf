/**
 * `cpu(url)`: the one word that moves a step off the event loop. It names a task module and how
 * to run it; the flow opens a pool for each run (or uses the one given) and closes it after.
 */
import { basename } from 'node:path';
import { checkOptions, invalidType } from '../core/validate.js';
import { resolveTaskModule, type TaskModule } from './pool/task-module.js';
import { checkPoolOptions, poolKeys, WorkerPool, type WorkerPoolOptions } from './pool/worker-pool.js';

const cpuBrand = Symbol.for('sluice.cpu');

export interface CpuOptions extends WorkerPoolOptions {
  /**
   * A pool to run on, shared across stages and runs and closed by its owner. Without it, each
   * run starts a pool of its own and closes it when the run ends.
   */
  pool?: WorkerPool;
}

/** A task module as a flow stage: `flow(items).map(cpu<In, Out>(url))`. */
export interface CpuTask<In, Out> {
  readonly [cpuBrand]: true;
  /** The task module's file name without its extensions, the stage's default name. */
  readonly name: string;
  readonly workers: number | undefined;
  /** Resolves the module, throwing SLUICE_ERR_TASK_NOT_FOUND (naming `owner`) when it does not exist. */
  resolve(owner: string): TaskModule;
  /** The pool for one run, and whether the run owns it (and must close it). */
  openPool(module: TaskModule): { pool: WorkerPool<In, Out>; owned: boolean };
  /** Phantom fields for type inference only. */
  readonly __types?: { in: In; out: Out };
}

const cpuKeys = ['pool', ...poolKeys] as const;

/**
 * A CPU-bound step, run on worker threads: pass it to `map`.
 * @example
 * const normalize = cpu<RawAsset, Asset>(new URL('./normalize.task.js', import.meta.url));
 * await flow(raws).map(normalize).forEach(save);
 */
export function cpu<In, Out>(task: URL | string, options?: CpuOptions): CpuTask<In, Out> {
  if (!(task instanceof URL) && typeof task !== 'string') {
    throw invalidType('cpu(task)', 'a file URL or an absolute path', task);
  }
  checkOptions('cpu options', options, cpuKeys);
  const given = options?.pool;
  if (given !== undefined && !(given instanceof WorkerPool))
    throw invalidType('cpu.pool', 'a WorkerPool', given);
  const { pool: _pool, ...poolOptions } = options ?? {};
  checkPoolOptions(poolOptions);
  const file = basename(task instanceof URL ? task.pathname : task);
  return {
    [cpuBrand]: true,
    name: file.replace(/(\.task)?\.[cm]?[jt]s$/, '') || file,
    workers: given?.size ?? options?.workers,
    resolve: (owner) => resolveTaskModule(owner, task),
    openPool: (module) =>
      given !== undefined
        ? { pool: given as WorkerPool<In, Out>, owned: false }
        : { pool: new WorkerPool<In, Out>(new URL(module.url), poolOptions), owned: true },
  };
}

export function isCpuTask(value: unknown): value is CpuTask<unknown, unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[cpuBrand] === true;
}
