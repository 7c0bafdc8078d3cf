/**
 * How many workers a cold pool should start, while the calling thread runs items (head-start.ts).
 * A worker thread costs tens of milliseconds of CPU to start and is ready 50 to 200 ms later, so
 * a job the calling thread finishes in that time never gains from one, and on a machine with as
 * many workers as cores each worker that starts while the calling thread works takes a core from
 * it. The pool therefore sizes itself from what it has measured, not from its `workers` option
 * alone: the job's projected length is the work its threads have done so far plus the work known
 * to wait (items queued or announced as `backlog`, times the measured time per item).
 *
 * Work done counts over the pool's life, every thread's: a pool kept warm between runs (a
 * program running many flows one after another) plans its next run from all of them. Counting
 * only the calling thread's time, the work a worker did never counted, and ten flows of 100,000
 * small items in a row started the last worker a flow or two later (bench/RESULTS.md).
 *
 * - Up to SOLO_MS: no worker. The calling thread finishes first.
 * - Up to FULL_POOL_MS: all workers but one, with the calling thread beside them as the last one
 *   (bench/RESULTS.md: on 2 cores, the calling thread and one worker finished 100,000 small items
 *   sooner than two workers starting beside it).
 * - Longer: every worker. Starting the last one pays for itself over the rest of the job. With a
 *   worker for every core, the calling thread then stands aside while they start (dispatcher.ts).
 *
 * Before any item was timed, an item counts as UNMEASURED_ITEM_MS, the least a task worth a worker
 * costs, so a job announced as hundreds of thousands of items starts its workers before its first
 * item ran, while a few thousand wait for a measurement. A measurement is the fastest time per item
 * of PLANNING_PIECES pieces after the pool's first (the dispatcher keeps it): the first piece
 * carries the task's cold start, and on a busy machine the next may carry a preemption or the JIT
 * compiling beside it. Read from one such piece, 10,000 two-microsecond items (20 ms of work)
 * looked like 15 seconds and started a worker, whose start then took a core from the calling
 * thread: 60 ms instead of 40 (bench/RESULTS.md).
 *
 * Until WARM_MS of items were timed after the pool's first piece, a measured job stops at all
 * workers but one. The first pieces carry the task's cold start: their calls run before the JIT
 * has compiled it, at hundreds of times their later cost (2-microsecond items first read 1.4 ms
 * each), and on a busy machine a preemption reads as work too. Projected from that, a 200 ms job
 * looked like minutes and started the last worker, which on 2 cores then took a core from the
 * calling thread for the rest of the job. The last worker cannot be taken back; starting it a few
 * milliseconds later costs little. 5 ms was not enough: in cold processes on 2 cores, about one run
 * in six of 100,000 two-microsecond items read 21 to 24 us an item for its first 6 to 10 ms (the
 * compiler's thread sharing the cores with a starting worker), started the last worker, stood the
 * calling thread aside and took 256 to 287 ms, where the other runs took 203 to 230.
 *
 * Before WARM_MS, a measured cost of under COLD_ITEM_MS counts a tenth of what it read (COLD_READ)
 * towards starting the first worker too. Calls of microseconds run up to ten times slower before
 * the JIT compiled them; calls of milliseconds hardly so (the JIT compiles a loop while it runs).
 * In cold processes 10,000 two-microsecond items (18 ms of work) read 6 to 23 us an item from
 * their first pieces, looked like 60 to 230 ms, and started a worker in 6 runs of 16: its
 * constructor holds the calling thread 3 to 5 ms and its start takes the other core, and those
 * runs took 74 to 92 ms where the others took 62 to 71. Discounting every cost so, 60 items of 4
 * ms started their worker 20 ms late and ran 3% slower.
 *
 * The plan only grows: a worker once started stays for the pool's life.
 */

/** A job projected to take no longer than this never starts a worker: the calling thread finishes first. */
export const SOLO_MS = 50;
/** A job projected to take longer than this starts every worker. */
export const FULL_POOL_MS = 400;
/**
 * What an item is taken to cost before one was timed: about what copying an item to a worker and
 * its result back costs, so less than any task worth sending to one.
 */
export const UNMEASURED_ITEM_MS = 0.001;
/** Pieces timed after the pool's first before their fastest time per item plans the workers. */
export const PLANNING_PIECES = 2;
/** Milliseconds of items timed after the first piece before their time per item counts in full. */
export const WARM_MS = 20;
/**
 * How much slower than their later cost a task's first short calls may run, before the JIT
 * compiled it: until WARM_MS, a measured time per item under COLD_ITEM_MS counts divided by this.
 */
export const COLD_READ = 10;
/** The time per item below which a cold reading is discounted (COLD_READ): calls too short to be compiled while they run. */
export const COLD_ITEM_MS = 0.1;

export interface WorkerPlanInput {
  /** The pool's `workers` option. */
  readonly workers: number;
  /** Milliseconds of items the pool has run so far, on every thread, over its life. */
  readonly doneMs: number;
  /** Measured milliseconds per item; undefined before the first item was timed (UNMEASURED_ITEM_MS). */
  readonly perItemMs: number | undefined;
  /** Milliseconds of items timed after the pool's first piece, wherever they ran. */
  readonly timedMs: number;
  /** Items known to be waiting: queued in the pool, and announced behind the latest request. */
  readonly waitingItems: number;
}

/** Workers the pool should have started by now, between 0 and `workers`. */
export function workersWanted({
  workers,
  doneMs,
  perItemMs,
  timedMs,
  waitingItems,
}: WorkerPlanInput): number {
  const cold = perItemMs !== undefined && timedMs < WARM_MS;
  const itemMs =
    perItemMs === undefined
      ? UNMEASURED_ITEM_MS
      : cold && perItemMs < COLD_ITEM_MS
        ? perItemMs / COLD_READ
        : perItemMs;
  const projectedMs = doneMs + waitingItems * itemMs;
  if (projectedMs <= SOLO_MS) return 0;
  if (projectedMs <= FULL_POOL_MS || cold) return Math.max(1, workers - 1);
  return workers;
}
