/**
 * What becomes of a dead worker's pieces. A worker dies of an uncaught error, process.exit, out of
 * memory, a killed process, or the watchdog replacing it for an overrun deadline; whatever it held
 * goes back to the queue, except the one item to blame:
 *
 * - Pieces it held but had not started go back as they were.
 * - The item the watchdog killed it for fails with the timeout; the rest of its piece goes back.
 * - The item it was running gets a strike and is retried alone, so that one poison item cannot
 *   take down a worker carrying the good items beside it; with more than `maxCrashRetries`
 *   strikes it fails with SLUICE_ERR_WORKER_CRASHED instead.
 * - A process worker cannot say which of several items it was running: each is retried alone,
 *   which finds the culprit.
 *
 * Pure: the dispatcher reads the worker's state, and applies the outcome.
 */
import { WorkerCrashedError } from '../../core/errors.js';
import { around, type Job, type Piece, singles } from './pieces.js';

export interface DeadWorker {
  /** Its pieces, the running one first. */
  readonly inflight: readonly Piece[];
  /** The item the watchdog replaced it for, if it did. */
  readonly killedFor: { readonly piece: Piece; readonly position: number } | undefined;
  /** Which item of its first piece it was running: -1 for none, undefined when it cannot tell. */
  readonly runningPosition: number | undefined;
}

export interface Recovery {
  /** Pieces for the front of the queue, in order. */
  readonly requeue: Piece[];
  /** The item that fails for good, if one does. */
  readonly failed: { readonly job: Job; readonly index: number; readonly error: Error } | undefined;
}

export function recover(
  dead: DeadWorker,
  reason: Error,
  maxCrashRetries: number,
  timeoutError: (job: Job) => Error,
): Recovery {
  const [head, ...rest] = dead.inflight;
  // The pieces behind the head never started.
  const waiting = rest.map((piece) => ({ ...piece, id: 0 }));
  if (head === undefined) return { requeue: waiting, failed: undefined };
  const { job } = head;
  const killed = dead.killedFor;
  if (killed !== undefined && killed.piece === head) {
    return {
      requeue: [...around(head, killed.position), ...waiting],
      failed: { job, index: head.offset + killed.position, error: timeoutError(job) },
    };
  }
  const position = dead.runningPosition;
  if (position === undefined) return { requeue: [...singles(head), ...waiting], failed: undefined };
  if (position < 0) return { requeue: [{ ...head, id: 0 }, ...waiting], failed: undefined };
  const strikes = (head.count === 1 ? head.strikes : 0) + 1;
  if (strikes <= maxCrashRetries)
    return { requeue: [...around(head, position, strikes), ...waiting], failed: undefined };
  const index = head.offset + position;
  return {
    requeue: [...around(head, position), ...waiting],
    failed: {
      job,
      index,
      error: new WorkerCrashedError(
        `Item ${job.first + index} crashed its worker ${strikes} times; last: ${reason.message}`,
        { cause: reason, index: job.first + index, item: job.items[index], attempts: strikes },
      ),
    },
  };
}
