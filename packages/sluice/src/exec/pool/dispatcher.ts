/**
 * The pool's engine: it cuts requests into pieces the size the batch sizer asks for, keeps every
 * worker fed (two pieces each, so a worker never waits for the main thread between two), and
 * puts the results back together (pieces.ts). It also owns recovery:
 *
 * - A worker that dies (an uncaught error, process.exit, out of memory, a killed process) is
 *   replaced, and what it held is requeued but for the item to blame (crash-recovery.ts).
 * - A task that overruns its deadline by more than the grace period has its worker replaced; the
 *   item fails with SLUICE_ERR_TIMEOUT (deadline-watchdog.ts; the stage's retry policy decides
 *   what comes next).
 * - A cancelled request settles at once; its pieces still queued are dropped and those running
 *   are flagged, so a task polling its signal stops and the worker lives on.
 *
 * Until every worker is ready, the head of the queue may run on the calling thread in short slices
 * (head-start.ts), so a cold pool never leaves a small job waiting for workers to start. Such a
 * pool starts its workers only as the job's measured size says they pay off (worker-plan.ts): a
 * job the calling thread finishes alone starts none.
 */
import { availableParallelism } from 'node:os';
import { watchAbort } from '../../core/abort-watch.js';
import { type Clock, systemClock, type TimerHandle } from '../../core/clock.js';
import { fromWire } from '../../core/error-wire.js';
import { abortReason, DataCloneError, PoolClosedError, TaskModuleError } from '../../core/errors.js';
import type { BatchOutcome, BatchRequest, Executor } from '../executor.js';
import { anyMoved, unwrapMoved } from '../task.js';
import { BatchSizer } from './batch-sizer.js';
import { recover } from './crash-recovery.js';
import { DeadlineWatchdog, deadlineError, overdueItem } from './deadline-watchdog.js';
import { HeadStart, type HeadStartResult, hasHeadStart, MAX_ITEM_MS, SLICE_MS } from './head-start.js';
import { InlineWorker } from './inline-worker.js';
import { cut, type Job, type Piece, pieceOf, singles } from './pieces.js';
import { CANCEL_RING_SIZE, CONTROL_CANCEL_RING, type FromWorker, runningItem } from './protocol.js';
import { fromColumns, isColumns, type RecordColumns, toColumns } from './record-columns.js';
import { checkTypeScriptPeer, type TaskModule } from './task-module.js';
import { spawnWorker, type WorkerEvents, type WorkerHandle, type WorkerKind } from './worker-handle.js';
import { PLANNING_PIECES, workersWanted } from './worker-plan.js';

/**
 * Work queued in each worker, in milliseconds: enough that a worker never runs dry while the main
 * thread is busy elsewhere (or simply not scheduled: on a machine with as many workers as cores
 * it competes with them for CPU), short enough that the last items still spread evenly.
 */
const QUEUED_MS = 10;
/** Pieces in flight per worker: at least one running and one waiting, at most MAX_PIPELINE. */
const MIN_PIPELINE = 2;
export const MAX_PIPELINE = 8;
/**
 * How long a pool with a head start waits for the calling thread to load the task before it starts
 * its workers anyway: a module whose top-level code waits on something only a worker has must not
 * leave the job waiting for ever.
 */
export const HEAD_START_LOAD_MS = 250;
/**
 * How long the calling thread stands aside for a pool that started a worker for every core (see
 * #planWorkers) before it runs items again, should none of them be ready by then: a worker is
 * usually ready 50 to 100 ms after it starts, but a heavy task module or a loaded machine may
 * take much longer, and the job must not wait with nobody running its items.
 */
export const WORKERS_STARTING_MS = 150;
/** Workers that die before they are ready, in a row, before the pool gives up. */
const MAX_STARTUP_FAILURES = 3;

export interface DispatcherOptions {
  readonly task: TaskModule;
  readonly workers: number;
  readonly isolation: WorkerKind;
  readonly resourceLimits: import('node:worker_threads').ResourceLimits | undefined;
  readonly maxCrashRetries: number;
  readonly deadlineGraceMs: number;
  /** Whether items may run on the calling thread while the workers start (thread workers only). */
  readonly headStart: boolean;
  readonly clock?: Clock;
}

interface Slot {
  readonly handle: WorkerHandle;
  ready: boolean;
  readonly inflight: Piece[];
  /** Set when the watchdog kills the worker: the item to fail with a timeout. */
  killedFor: { piece: Piece; position: number } | undefined;
}

const noop = (): void => undefined;

export class Dispatcher implements Executor<unknown, unknown> {
  readonly #options: DispatcherOptions;
  readonly #clock: Clock;
  /** Cores the machine runs threads on: see #planWorkers. */
  readonly #cores: number;
  readonly #slots = new Set<Slot>();
  readonly #queue: Piece[] = [];
  readonly sizer: BatchSizer;
  /** Milliseconds workers have spent running tasks, all told: for the report's CPU time per item. */
  busyMs = 0;
  #nextId = 1;
  /** Callers of ready() (`full`: every worker; otherwise: anything that can run items). */
  #readyWaiters: { full: boolean; resolve(): void; reject(error: unknown): void }[] = [];
  #everReady = false;
  #startupFailures = 0;
  /** Set when the pool cannot work at all (the module does not load, setup throws): every request fails with it. */
  #broken: Error | undefined;
  #closed = false;
  readonly #watchdog: DeadlineWatchdog;
  #keepingAlive = true;
  /** Runs queued work on the calling thread until a worker is ready; then undefined for good. */
  #headStart: HeadStart | undefined;
  /**
   * The head-start slice, at most one at a time: scheduled, or running (an async task's item may
   * hold it across turns). Only a running one makes the pool busy: a slice still scheduled when a
   * worker took what it was for, or its request was cancelled, finds nothing to run.
   */
  #slice: 'none' | 'scheduled' | 'running' = 'none';
  /**
   * The calling thread stands aside while workers start on every core (#planWorkers), once per
   * pool; the timer lets it carry on if none of them is ready within WORKERS_STARTING_MS.
   */
  #aside = false;
  #stoodAside = false;
  #asideTimer: TimerHandle | undefined;
  /** Milliseconds the calling thread has spent running items (`loopMs`); the plan counts every thread's (`busyMs`). */
  #headStartMs = 0;
  /** Items the latest request said wait behind it (`backlog`): the rest of the job's known size. */
  #backlog = 0;
  /**
   * The fastest time per item a piece took: what the task costs, where the sizer's smoothed figure
   * also carries every preemption of a busy machine. Plans the workers (#planWorkers) once
   * PLANNING_PIECES pieces were timed. Only pieces after the pool's first count, of several items
   * or of one that ran a millisecond or more: a cold pool's first pieces hold one item each, and
   * one small item's first runs take ten times its cost.
   */
  #fastestPerItemMs: number | undefined;
  /** Pieces #fastestPerItemMs was taken from. */
  #timedPieces = 0;
  /** What the pool's first piece took: the task's cold start, which the plan does not count as warm time. */
  #firstPieceMs: number | undefined;
  /** Items per message for the workers, for the job as it looks now (BatchSizer.sizeFor). */
  #pieceSize = 1;
  /**
   * Busy milliseconds since the pool last ran dry: how long the work in hand has gone on. Not the
   * pool's lifetime total: a pool kept warm for many short runs must not size their pieces as for
   * one long job.
   */
  #streakMs = 0;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#cores = availableParallelism();
    this.sizer = new BatchSizer();
    this.#watchdog = new DeadlineWatchdog(
      this.#clock,
      options.deadlineGraceMs,
      () => !this.#closed && this.#checkDeadlines(),
    );
    if (options.isolation !== 'inline')
      checkTypeScriptPeer(options.task, options.isolation === 'thread' ? 'tsx/esm/api' : 'tsx');
    // With a head start, workers start as the job's measured size asks for them (#planWorkers);
    // without one, all of them now.
    if (hasHeadStart(options)) {
      const loading = this.#clock.setTimeout(() => {
        if (this.#headStart?.ready === false) this.#spawnUpTo(options.workers);
      }, HEAD_START_LOAD_MS);
      (loading as { unref?: () => void }).unref?.();
      this.#headStart = new HeadStart(options.task.url, this.#clock, (ready) => {
        this.#clock.clearTimeout(loading);
        if (!ready) {
          this.#stopHeadStart();
          return;
        }
        this.#settleReadyWaiters();
        this.#dispatch();
      });
      return;
    }
    this.#spawnUpTo(options.workers);
  }

  get workers(): number {
    return this.#slots.size;
  }

  /**
   * Batches it can usefully hold at once: per worker, one running and as many queued as keep it
   * busy. Counted for every worker the pool may run, started or not: a stage sizes itself once.
   */
  get capacity(): number {
    return this.#options.workers * MAX_PIPELINE;
  }

  /** Milliseconds the calling thread has spent running items (the head start), all told. */
  get loopMs(): number {
    return this.#headStartMs;
  }

  /** Items per message the sizer wants now, for items without a deadline. */
  get batchSize(): number {
    return this.#pieceSize;
  }

  /**
   * Open, working, and holding no work at all: nothing queued, nothing running (not even an item
   * whose request was cancelled), nothing on the calling thread. Only such a pool may be handed to
   * another user (warm-pools.ts). Workers still starting do not count: a short run often ends
   * before its last worker is ready, and that worker is what the next run wants.
   */
  get idle(): boolean {
    if (this.#closed || this.#broken !== undefined || this.#slice === 'running') return false;
    if (this.#queue.length > 0) return false;
    for (const slot of this.#slots)
      if (slot.inflight.length > 0 || slot.killedFor !== undefined) return false;
    return true;
  }

  /**
   * Resolves once the pool can run items: the calling thread has loaded the task for its head
   * start, or every worker started so far is ready. With `full`, starts every worker the pool may
   * run and resolves once all of them are ready. Rejects when the task cannot load.
   */
  ready(full = false): Promise<void> {
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    if (full) this.#spawnUpTo(this.#options.workers);
    if (this.#isReady(full)) return Promise.resolve();
    const waiting = new Promise<void>((resolve, reject) =>
      this.#readyWaiters.push({ full, resolve, reject }),
    );
    this.#updateKeepAlive();
    return waiting;
  }

  #isReady(full: boolean): boolean {
    const workersReady = this.#everReady && [...this.#slots].every((slot) => slot.ready);
    if (full) return workersReady && this.#slots.size >= this.#options.workers;
    return workersReady || this.#headStart?.ready === true;
  }

  #settleReadyWaiters(): void {
    if (this.#readyWaiters.length === 0) return;
    const waiting = this.#readyWaiters;
    this.#readyWaiters = waiting.filter((waiter) => !this.#isReady(waiter.full));
    for (const waiter of waiting) if (this.#isReady(waiter.full)) waiter.resolve();
  }

  /** Pieces each worker holds: enough for QUEUED_MS of work at the current batch size. */
  get pipelineDepth(): number {
    const perItem = this.sizer.perItemMs;
    if (perItem === undefined) return MIN_PIPELINE;
    const pieceMs = Math.max(perItem * this.#pieceSize, 0.001);
    return Math.max(MIN_PIPELINE, Math.min(MAX_PIPELINE, Math.ceil(QUEUED_MS / pieceMs)));
  }

  /**
   * Items per message the sizer wants now. A process worker cannot say which of several items it is
   * running, so with a deadline it gets one at a time, which the watchdog can time.
   */
  batchSizeFor(timeout: number | undefined): number {
    if (timeout !== undefined && this.#options.isolation === 'process') return 1;
    return this.#pieceSize;
  }

  execute(request: BatchRequest<unknown>): Promise<BatchOutcome<unknown>> {
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    if (this.#closed) return Promise.reject(new PoolClosedError('The worker pool is closed'));
    const { signal } = request;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      // Copied only when move() marks must be unwrapped: the caller's array is never written to.
      const items = anyMoved(request.items) ? [...request.items] : (request.items as unknown[]);
      const job: Job = {
        items,
        first: request.first,
        attempt: request.attempt ?? 1,
        timeout: request.timeout,
        signal,
        values: items.length === 1 ? [] : new Array(items.length),
        errors: undefined,
        remaining: items.length,
        settled: false,
        transfer: unwrapMoved(items),
        resolve,
        reject,
        detach: noop,
      };
      if (items.length === 0) {
        resolve({ values: [], errors: undefined });
        return;
      }
      if (signal !== undefined) job.detach = watchAbort(signal, () => this.#cancel(job, abortReason(signal)));
      this.#backlog = request.backlog ?? 0;
      if (this.idle) this.#streakMs = 0;
      this.#queue.push(pieceOf(job, 0, items.length));
      this.#resize();
      if (this.#headStart !== undefined) this.#planWorkers();
      this.#dispatch();
    });
  }

  /** Stops every worker; pending requests reject with SLUICE_ERR_POOL_CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopHeadStart();
    this.#watchdog.stop();
    const error = new PoolClosedError('The worker pool was closed');
    for (const piece of this.#queue.splice(0)) this.#settleJob(piece.job, error);
    for (const slot of this.#slots) for (const piece of slot.inflight) this.#settleJob(piece.job, error);
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(error);
    const slots = [...this.#slots];
    this.#slots.clear();
    await Promise.all(slots.map((slot) => slot.handle.terminate()));
  }

  /** Starts workers until `count` run (never more than the pool's `workers`). */
  #spawnUpTo(count: number): void {
    if (this.#closed || this.#broken !== undefined) return;
    while (this.#slots.size < Math.min(count, this.#options.workers)) this.#spawn();
  }

  /**
   * Starts the workers the job's projected length asks for (worker-plan.ts), after each piece the
   * calling thread runs and at each request; all of them once it no longer runs items.
   */
  #planWorkers(): void {
    if (this.#headStart === undefined) {
      this.#spawnUpTo(this.#options.workers);
      return;
    }
    this.#spawnUpTo(
      workersWanted({
        workers: this.#options.workers,
        doneMs: this.busyMs,
        perItemMs: this.#timedPieces >= PLANNING_PIECES ? this.#fastestPerItemMs : undefined,
        timedMs: this.busyMs - (this.#firstPieceMs ?? 0),
        waitingItems: this.#itemsWaiting(),
      }),
    );
    // A worker starting on every core: the calling thread running items beside them takes CPU
    // from their starts and then from their work (bench/RESULTS.md: a cold job of 1,000,000 small
    // items, 788 -> 770 ms, as fast as with no head start at all). It stands aside while they start.
    const slots = this.#slots.size;
    if (!this.#stoodAside && slots >= this.#options.workers && slots >= this.#cores) this.#standAside();
  }

  /** The calling thread runs no items while the workers start, unless none is ready in time. */
  #standAside(): void {
    this.#stoodAside = true;
    if (this.#everReady) return;
    this.#aside = true;
    const timer = this.#clock.setTimeout(() => {
      this.#asideTimer = undefined;
      this.#aside = false;
      this.#dispatch();
    }, WORKERS_STARTING_MS);
    (timer as { unref?: () => void }).unref?.();
    this.#asideTimer = timer;
  }

  /** No need to carry on after WORKERS_STARTING_MS: a worker is up, or the head start is over. */
  #clearAsideTimer(): void {
    if (this.#asideTimer !== undefined) this.#clock.clearTimeout(this.#asideTimer);
    this.#asideTimer = undefined;
  }

  /** Items known to wait: queued here, and what the latest request said is behind it (`backlog`). */
  #itemsWaiting(): number {
    let items = this.#backlog;
    for (const piece of this.#queue) items += piece.count;
    return items;
  }

  #spawn(): void {
    const slot: Slot = {
      handle: undefined as unknown as WorkerHandle,
      ready: false,
      inflight: [],
      killedFor: undefined,
    };
    const { isolation, task, resourceLimits } = this.#options;
    const events: WorkerEvents = {
      message: (message) => this.#onMessage(slot, message),
      exit: (reason) => this.#onExit(slot, reason),
    };
    (slot as { handle: WorkerHandle }).handle =
      isolation === 'inline'
        ? new InlineWorker({ isolation, task, resourceLimits }, events)
        : spawnWorker({ isolation, task, resourceLimits }, events);
    this.#slots.add(slot);
    if (!this.#keepingAlive) slot.handle.setKeepAlive(false);
  }

  #onMessage(slot: Slot, message: FromWorker): void {
    switch (message.type) {
      case 'ready':
        slot.ready = true;
        this.#everReady = true;
        this.#startupFailures = 0;
        // Standing aside for the workers to start, and one is up: the calling thread stays aside.
        this.#clearAsideTimer();
        // The calling thread is the pool's last worker until every worker is up, then steps back
        // for good: beside as many workers as cores it would only slow them.
        if (this.#slots.size >= this.#options.workers && [...this.#slots].every((s) => s.ready))
          this.#stopHeadStart();
        this.#settleReadyWaiters();
        this.#dispatch();
        return;
      case 'init-error':
        this.#break(fromWire(message.error));
        return;
      case 'done': {
        const piece = slot.inflight.shift();
        if (piece === undefined || piece.id !== message.id) return;
        const next = slot.inflight[0];
        if (next !== undefined) next.headSince = this.#clock.now();
        const { values, errors, busyMs } = message;
        const sent = piece.sent;
        piece.sent = undefined;
        this.#pieceDone(piece, {
          values: isColumns(values) ? fromColumns(values, sent) : values,
          errors,
          busyMs,
        });
        this.#dispatch();
        return;
      }
    }
  }

  /** Records a piece's outcome, whoever ran it, into its job. */
  #pieceDone(piece: Piece, done: HeadStartResult): void {
    this.sizer.record(piece.count, done.busyMs);
    const perItem = done.busyMs / piece.count;
    if (this.#firstPieceMs === undefined) this.#firstPieceMs = done.busyMs;
    else if (piece.count > 1 || done.busyMs >= 1) {
      this.#timedPieces++;
      if (this.#fastestPerItemMs === undefined || perItem < this.#fastestPerItemMs)
        this.#fastestPerItemMs = perItem;
    }
    this.busyMs += done.busyMs;
    this.#streakMs += done.busyMs;
    this.#resize();
    const job = piece.job;
    if (job.settled) return;
    if (piece.count === job.items.length) job.values = done.values;
    else for (let i = 0; i < piece.count; i++) job.values[piece.offset + i] = done.values[i];
    if (done.errors !== undefined) {
      job.errors ??= [];
      for (const [i, error] of done.errors.entries()) {
        if (error !== undefined) job.errors[piece.offset + i] = fromWire(error);
      }
    }
    this.#complete(job, piece.count);
  }

  /** Sizes the workers' next pieces for the job as it looks now. */
  #resize(): void {
    this.#pieceSize = this.sizer.sizeFor({
      workers: this.#options.workers,
      aheadItems: this.#itemsWaiting(),
      doneMs: this.#streakMs,
    });
  }

  #onExit(slot: Slot, reason: Error): void {
    if (!this.#slots.delete(slot) || this.#closed) return;
    if (!slot.ready) {
      // Died while loading: no task ran. Keep trying a few times (a transient failure), then give up.
      if (++this.#startupFailures >= MAX_STARTUP_FAILURES) {
        this.#break(
          new TaskModuleError(`The pool's workers keep exiting before they are ready: ${reason.message}`, {
            cause: reason,
          }),
        );
        return;
      }
    }
    this.#recover(slot, reason);
    if (this.#broken === undefined) this.#spawn();
    this.#dispatch();
  }

  /** Puts a dead worker's pieces back, blaming the item it was running. */
  #recover(slot: Slot, reason: Error): void {
    const { requeue, failed } = recover(
      { inflight: slot.inflight, killedFor: slot.killedFor, runningPosition: this.#runningPosition(slot) },
      reason,
      this.#options.maxCrashRetries,
      (job) => deadlineError(job.timeout, this.#options.deadlineGraceMs),
    );
    if (failed !== undefined) this.#fail(failed.job, failed.index, failed.error);
    this.#queue.unshift(...requeue);
  }

  /** Which item of its first piece a worker was running: -1 for none, undefined when it cannot tell. */
  #runningPosition(slot: Slot): number | undefined {
    const head = slot.inflight[0];
    const control = slot.handle.control;
    if (head === undefined) return -1;
    // A process worker says nothing; with one item, that is the one.
    if (control === undefined) return head.count === 1 ? 0 : undefined;
    return runningItem(control, head.id);
  }

  #dispatch(): void {
    this.#fill();
    this.#updateKeepAlive();
  }

  #fill(): void {
    while (this.#queue.length > 0) {
      const slot = this.#freeSlot();
      if (slot === undefined) break;
      const piece = this.#nextPiece();
      if (piece !== undefined) this.#send(slot, piece);
    }
    if (this.#queue.length > 0) this.#scheduleHeadStart();
  }

  /**
   * Takes the queue's head, cut to the size the sizer wants; undefined when it was already settled.
   * The calling thread takes pieces of the sizer's base size: a long job's grown pieces would
   * outlast its slice.
   */
  #nextPiece(forHeadStart = false): Piece | undefined {
    const piece = this.#queue.shift() as Piece;
    if (piece.job.settled) return undefined;
    const [next, rest] = cut(piece, forHeadStart ? this.sizer.size : this.batchSizeFor(piece.job.timeout));
    if (rest !== undefined) this.#queue.unshift(rest);
    return next;
  }

  /** Work is waiting and no worker has room: run a slice of it here after the loop's next turn. */
  #scheduleHeadStart(): void {
    if (this.#slice !== 'none' || this.#aside || this.#headStart?.ready !== true) return;
    this.#slice = 'scheduled';
    setImmediate(() => this.#runHeadStart());
  }

  /**
   * One slice on the calling thread: pieces from the head of the queue until SLICE_MS have passed.
   * Workers with room are fed first, so the calling thread only takes what they cannot. A piece
   * the calling thread must not run (a deadline, moved buffers) ends the slice: workers take it.
   */
  async #runHeadStart(): Promise<void> {
    const startedAt = this.#clock.now();
    const until = startedAt + SLICE_MS;
    this.#slice = 'running';
    try {
      while (this.#clock.now() < until) {
        this.#fill();
        const headStart = this.#headStart;
        const head = this.#queue[0];
        if (headStart?.ready !== true || head === undefined || this.#broken !== undefined || this.#aside)
          break;
        if (head.job.timeout !== undefined || head.job.transfer.length > 0) {
          // Only workers may run it: start them all.
          this.#spawnUpTo(this.#options.workers);
          break;
        }
        const piece = this.#nextPiece(true);
        if (piece === undefined) continue;
        const { job } = piece;
        let done: HeadStartResult;
        try {
          const running = headStart.run({
            items:
              piece.count === job.items.length
                ? job.items
                : job.items.slice(piece.offset, piece.offset + piece.count),
            first: job.first + piece.offset,
            attempt: job.attempt,
            signal: job.signal,
          });
          done = running instanceof Promise ? await running : running;
        } catch (error) {
          this.#cloneFailed(piece, error);
          continue;
        }
        if (done.exitedAt !== undefined) {
          // The task called process.exit(): what it had not finished goes to the workers, which
          // may end, and the calling thread runs no more of it.
          const ran = done.exitedAt;
          if (ran > 0) this.#pieceDone({ ...piece, count: ran }, done);
          this.#queue.unshift(pieceOf(job, piece.offset + ran, piece.count - ran, piece.strikes));
          this.#stopHeadStart();
          break;
        }
        this.#pieceDone(piece, done);
        this.#planWorkers();
        // Items this slow stall the event loop: the workers take them all from here on. One piece
        // decides, the first included: the head start is on by default, and a task whose items take
        // seconds must stall the loop once, not twice. A piece the scheduler preempted may stop it
        // needlessly; the workers then run the job as they would without a head start.
        if (done.busyMs / piece.count > MAX_ITEM_MS) this.#stopHeadStart();
      }
    } finally {
      this.#headStartMs += this.#clock.now() - startedAt;
      this.#slice = 'none';
      this.#planWorkers();
      this.#dispatch();
    }
  }

  /** The calling thread runs no more items: the workers take everything, so all of them start. */
  #stopHeadStart(): void {
    this.#clearAsideTimer();
    if (this.#headStart === undefined) return;
    this.#headStart.stop();
    this.#headStart = undefined;
    this.#spawnUpTo(this.#options.workers);
  }

  /** The ready worker with the fewest pieces, if one has room: spread first, then pipeline. */
  #freeSlot(): Slot | undefined {
    const depth = this.pipelineDepth;
    let best: Slot | undefined;
    for (const slot of this.#slots) {
      if (!slot.ready || slot.killedFor !== undefined || slot.inflight.length >= depth) continue;
      if (best === undefined || slot.inflight.length < best.inflight.length) best = slot;
    }
    return best;
  }

  #send(slot: Slot, piece: Piece): void {
    const { job } = piece;
    const whole = piece.offset === 0 && piece.count === job.items.length;
    piece.id = this.#nextId++;
    if (this.#nextId > 0x7fffffff) this.#nextId = 1;
    let columns: RecordColumns | undefined;
    try {
      const items = whole ? job.items : job.items.slice(piece.offset, piece.offset + piece.count);
      columns = slot.handle.isolation === 'inline' ? undefined : toColumns(items);
      slot.handle.post(
        {
          type: 'batch',
          id: piece.id,
          items: columns ?? items,
          first: job.first + piece.offset,
          attempt: job.attempt,
          timeout: job.timeout,
        },
        // Moved buffers go with the first message that carries the whole request; after a split
        // or a crash they are gone already, and a copy is all there is to send.
        whole ? job.transfer : [],
      );
      if (whole) job.transfer = [];
    } catch (error) {
      this.#cloneFailed(piece, error);
      return;
    }
    piece.headSince = this.#clock.now();
    piece.sent = columns;
    slot.inflight.push(piece);
    if (job.timeout !== undefined) this.#watchdog.start();
  }

  /** An item could not be cloned: split down to single items to fail exactly the culprits. */
  #cloneFailed(piece: Piece, error: unknown): void {
    const { job } = piece;
    if (piece.count === 1) {
      const index = piece.offset;
      this.#fail(
        job,
        index,
        new DataCloneError(
          `Item ${job.first + index} cannot be sent to a worker: ${(error as Error).message ?? String(error)}`,
          { cause: error, index: job.first + index, item: job.items[index] },
        ),
      );
      return;
    }
    this.#queue.unshift(...singles(piece));
  }

  #fail(job: Job, index: number, error: unknown): void {
    if (job.settled) return;
    job.errors ??= [];
    job.errors[index] = error;
    this.#complete(job, 1);
  }

  #complete(job: Job, count: number): void {
    job.remaining -= count;
    if (job.remaining > 0 || job.settled) return;
    job.settled = true;
    job.detach();
    job.resolve({ values: job.values, errors: job.errors });
    this.#updateKeepAlive();
  }

  #settleJob(job: Job, error: unknown): void {
    if (job.settled) return;
    job.settled = true;
    job.detach();
    job.reject(error);
    this.#updateKeepAlive();
  }

  /** A cancelled request: settle now, flag its running pieces so their tasks can stop. */
  #cancel(job: Job, reason: Error): void {
    for (let i = this.#queue.length - 1; i >= 0; i--)
      if (this.#queue[i]?.job === job) this.#queue.splice(i, 1);
    this.#settleJob(job, reason);
    for (const slot of this.#slots) {
      for (const piece of slot.inflight) {
        if (piece.job !== job) continue;
        const control = slot.handle.control;
        if (control !== undefined) {
          Atomics.store(control.ints, CONTROL_CANCEL_RING + (piece.id % CANCEL_RING_SIZE), piece.id);
        }
        slot.handle.post({ type: 'cancel', id: piece.id }, []);
      }
    }
  }

  /**
   * Workers keep the process alive only while someone waits on the pool: a forgotten, idle pool
   * never holds up an exit, and a pool with work (or a caller awaiting ready()) never lets it go.
   */
  #updateKeepAlive(): void {
    let busy = this.#queue.length > 0 || this.#readyWaiters.length > 0;
    for (const slot of this.#slots) busy ||= slot.inflight.some((piece) => !piece.job.settled);
    if (busy === this.#keepingAlive) return;
    this.#keepingAlive = busy;
    for (const slot of this.#slots) slot.handle.setKeepAlive(busy);
  }

  #break(error: Error): void {
    if (this.#broken !== undefined) return;
    this.#broken = error;
    this.#stopHeadStart();
    for (const piece of this.#queue.splice(0)) this.#settleJob(piece.job, error);
    for (const slot of this.#slots) for (const piece of slot.inflight) this.#settleJob(piece.job, error);
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(error);
    void this.close();
  }

  /** Replaces workers whose running item is past its deadline and grace. True while any deadline is pending. */
  #checkDeadlines(): boolean {
    let pending = false;
    const now = this.#clock.now();
    for (const slot of this.#slots) {
      const head = slot.inflight[0];
      if (head?.job.timeout === undefined || slot.killedFor !== undefined) continue;
      pending = true;
      const position = overdueItem(head, slot.handle.control, now, this.#options.deadlineGraceMs);
      if (position === undefined) continue;
      slot.killedFor = { piece: head, position };
      void slot.handle.terminate();
    }
    return pending;
  }
}
