/**
 * The Executor contract: where a stage's work runs. The flow runner hands an executor batches of
 * items and gets back one outcome per item; it does not care whether the work ran on a worker
 * thread, a child process or (later) a remote machine.
 *
 * What belongs here: running a batch, saying how big a batch it wants, cancelling, closing.
 * What deliberately does not: retries, error policies, ordering and accounting. Those are the
 * flow's, identical for every executor, so moving a stage from one executor to another never
 * changes what its report counts or what its options mean.
 */
import { InvalidArgTypeError } from '../core/errors.js';
import { describe, invalidType } from '../core/validate.js';

export interface BatchRequest<In> {
  readonly items: readonly In[];
  /** Index (in the stage's input) of the first item; the others follow on. Tasks see it as `ctx.index`. */
  readonly first: number;
  /** @default 1 */
  readonly attempt?: number;
  /** Milliseconds each item may run. */
  readonly timeout?: number;
  /** Aborting it settles the request at once and cancels its items wherever they are. */
  readonly signal?: AbortSignal;
  /**
   * Items known to wait behind this request (a hint; 0 or left out when unknown). An executor that
   * starts workers as a job's size asks for them reads it; others ignore it.
   */
  readonly backlog?: number;
}

/**
 * One outcome per item, in the request's order: `errors[i]` set means item i failed, else
 * `values[i]` is its result. Two arrays rather than an object per item: at hundreds of thousands
 * of items a second, the allocation shows.
 */
export interface BatchOutcome<Out> {
  readonly values: Out[];
  readonly errors: unknown[] | undefined;
}

export interface Executor<In, Out> {
  /** Runs a batch; resolves with an outcome per item. Rejects only when the request as a whole failed. */
  execute(request: BatchRequest<In>): Promise<BatchOutcome<Out>>;
  /** How many items a batch should hold right now, for this executor to run efficiently. */
  readonly batchSize: number;
  /** How many batches it can usefully hold at once. */
  readonly capacity: number;
  /** Releases every resource; requests still pending reject. */
  close(): Promise<void>;
  /**
   * Optional. Resolves once the executor can run work (workers started, the task module loaded),
   * rejects with a coded error when it never will (a module that fails to load). The stage starts
   * its clock for the report here; without it, the executor counts as ready at once.
   */
  ready?(): Promise<void>;
  /**
   * Optional. Milliseconds the executor's workers spent running items so far, summed over
   * workers: the report's busy time and CPU time per item. Without it the report shows none.
   */
  readonly busyMs?: number;
  /**
   * Optional. Of `busyMs`, the milliseconds items ran on the calling thread's event loop (a thread
   * pool's head start): the report charges that loop time to this stage, not to the stages whose
   * calls await. Without it, none is.
   */
  readonly loopMs?: number;
  /**
   * Optional. The batch size for items that each have `timeout` milliseconds: an executor that
   * times items one by one (a child process) may want smaller batches then. Without it,
   * `batchSize` is used whatever the timeout.
   */
  batchSizeFor?(timeout: number | undefined): number;
  /**
   * Optional. What the executor can tell about where the stage's work ran (per-worker counts,
   * redeliveries, duplicates): plain JSON data, read when the run's report is made (after
   * `close()`), shown as the stage report's `executor`. Without it the report has none. Live
   * progress reads it too, on every update: a `workers` field of `{ [name]: { done } }` puts each
   * worker's count on the stage's progress line, and a `redelivered` count beside them.
   */
  report?(): Readonly<Record<string, unknown>>;
}

/** What a provider is told about the stage it serves. */
export interface ExecutorContext {
  /** The stage's name, for errors and reports. */
  readonly stage: string;
}

/** A task module a cpu() stage names, resolved to a file that exists. */
export interface ResolvedTask {
  /** The file URL workers import (as given: a `.js` URL whose file is `.ts` stays `.js`). */
  readonly url: string;
  /** The file found on disk. */
  readonly path: string;
}

/**
 * Where a cpu() stage runs: given the resolved task module, an Executor for it. A run of the flow
 * calls `open` once per cpu() stage and closes what it returns when the run ends, so a provider
 * that shares something across runs (a connection, a pool kept warm) keeps it out of that
 * `close()` and offers a `close()` of its own.
 *
 * @example
 * const remote = jetstream({ servers: 'nats://127.0.0.1:4222' });
 * await flow(items).map(cpu(taskUrl, { executor: remote })).collect();
 * await remote.close();
 */
export interface ExecutorProvider {
  open<In, Out>(task: ResolvedTask, context: ExecutorContext): Executor<In, Out>;
}

/** Checks that `value` can serve as cpu()'s `executor`: an object with an `open` method. */
export function checkProvider(name: string, value: unknown): ExecutorProvider {
  if (typeof value !== 'object' || value === null || typeof (value as ExecutorProvider).open !== 'function') {
    throw invalidType(name, 'an executor provider (an object with open(task, context))', value);
  }
  return value as ExecutorProvider;
}

/**
 * Opens a stage's executor and checks that what the provider returned keeps the contract, so a
 * provider that returns something else fails the stage as it starts, with SLUICE_ERR_INVALID_ARG_TYPE
 * naming the stage, not with a TypeError from deep inside the run.
 */
export function openExecutor(
  provider: ExecutorProvider,
  task: ResolvedTask,
  context: ExecutorContext,
): Executor<unknown, unknown> {
  const executor: unknown = provider.open(task, context);
  const broken = contractBreach(executor);
  if (broken !== undefined) {
    throw new InvalidArgTypeError(
      `Stage "${context.stage}": the executor provider's open() must return an Executor, with ${broken}. Received ${describe(executor)}`,
      { stage: context.stage },
    );
  }
  return executor as Executor<unknown, unknown>;
}

/** What `value` lacks to be an Executor, or undefined when it keeps the contract. */
function contractBreach(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'an object';
  const executor = value as Record<string, unknown>;
  if (typeof executor.execute !== 'function') return 'an execute() method';
  if (typeof executor.close !== 'function') return 'a close() method';
  if (!isCount(executor.batchSize)) return 'a batchSize of at least 1';
  if (!isCount(executor.capacity)) return 'a capacity of at least 1';
  for (const method of ['ready', 'batchSizeFor'] as const) {
    if (executor[method] !== undefined && typeof executor[method] !== 'function')
      return `${method} a method, when given`;
  }
  for (const figure of ['busyMs', 'loopMs'] as const) {
    if (executor[figure] !== undefined && typeof executor[figure] !== 'number')
      return `${figure} a number, when given`;
  }
  return undefined;
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}
