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
}
