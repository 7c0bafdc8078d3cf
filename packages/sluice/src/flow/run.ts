/**
 * One execution of a flow: wires the source, the stages and the bounded channels between them,
 * and owns the teardown. The first failure wins: it aborts the run's signal (which reaches every
 * function in flight, every deadline, backoff and rate-limit wait), fails every channel (which
 * wakes every lane, the source pump and the terminal), releases the source, and rejects at once,
 * without waiting for functions that ignore their signal.
 */
import { Channel, EMPTY } from '../core/channel.js';
import { type Clock, systemClock } from '../core/clock.js';
import { AbortError, errorMessage, isSluiceError, TerminalError } from '../core/errors.js';
import { LazySignal } from '../core/lazy-signal.js';
import { checkOptions, checkSignal, invalidType } from '../core/validate.js';
import { isLogger, type Logger } from '../observe/logger.js';
import { checkProgress, type ProgressOptions } from '../observe/progress.js';
import type { StageInsight } from '../observe/run-insight.js';
import { RunInsight } from '../observe/run-insight.js';
import type { RunReport, RunStatus } from '../observe/run-report.js';
import { BatchStage } from './batch-stage.js';
import type { Inlet } from './inlet.js';
import { InlineForEach } from './inline-for-each.js';
import { type Invoker, makeInvoker } from './invoke.js';
import { LaneStage } from './lane-stage.js';
import { ConsumingOutlet, type Outlet } from './outlet.js';
import { PoolStage } from './pool-stage.js';
import { StageStats } from './report.js';
import type { RunControl } from './run-control.js';
import { scopedRunSignal } from './run-signal.js';
import { openSource, type Source, type SourceInlet } from './source.js';
import { defaultBuffer, type LaneSpec, type StageSpec } from './stage-spec.js';

const ignore = (): void => undefined;

export interface RunOptions {
  /**
   * Aborting it stops the run: the run rejects with a SLUICE_ERR_ABORTED error whose cause is the reason.
   * @default the signal of an enclosing `withRunSignal`, if any
   */
  signal?: AbortSignal;
  /**
   * The clock for deadlines, backoff, rate limits and batch waits.
   * @default the system clock
   */
  clock?: Clock;
  /**
   * Live progress: a line per stage (rate, in flight, done and total when known, ETA), redrawn in
   * place on a terminal, plain lines every few seconds elsewhere.
   * @default false
   * @example await flow(urls).map(fetchPage, { concurrency: 64 }).run({ progress: true });
   */
  progress?: boolean | ProgressOptions;
  /**
   * Where the run's warnings go (a stage blocking the event loop, say): a pino logger or anything
   * with pino's `warn(fields, message)`. Without one they go to `process.emitWarning`.
   * @example import { createLogger } from 'sluice/log'; await f.run({ logger: createLogger() });
   */
  logger?: Logger;
}

/** The keys of RunOptions, for terminals that take them beside their own. */
export const runOptionKeys = ['signal', 'clock', 'progress', 'logger'] as const;

/**
 * What the terminal does with the outputs: throws them away (`'discard'`, for `run()`), reads
 * them from the last channel at its own pace (`'read'`, for async iteration), or takes each as
 * the last stage emits it (a function, for `collect` and `reduce`).
 */
export type Terminal<T> = 'discard' | 'read' | ((value: T) => void);

export interface CheckedRunOptions extends RunOptions {
  progress?: ProgressOptions;
}

export function checkRunOptions(options: unknown): CheckedRunOptions {
  checkOptions('run options', options, runOptionKeys);
  const o = (options ?? {}) as RunOptions;
  checkSignal('signal', o.signal);
  if (o.clock !== undefined && (typeof o.clock !== 'object' || typeof o.clock.setTimeout !== 'function')) {
    throw invalidType('clock', 'a Clock (now, setTimeout, clearTimeout)', o.clock);
  }
  if (o.logger !== undefined && !isLogger(o.logger)) {
    throw invalidType('logger', 'a logger with warn, info and debug methods (pino, say)', o.logger);
  }
  const progress = checkProgress(o.progress);
  const { progress: _given, ...rest } = o;
  return progress === undefined ? rest : { ...rest, progress };
}

export class Run<T> implements RunControl {
  /**
   * Made when first read (a call reading `ctx.signal`, a wait for a turn, a retry's backoff, a
   * cpu() stage; a stage's deadlines watch it without making it): making it cost a short run a
   * tenth of its time, and most runs never read it.
   */
  readonly #signal = new LazySignal(true);
  readonly clock: Clock;
  readonly #external: AbortSignal | undefined;
  readonly #onExternalAbort = (): void => {
    const reason: unknown = this.#external?.reason;
    // The reason says why (Ctrl-C, a stall, a timeout): worth a line in the report.
    const why = reason instanceof Error && reason.name !== 'AbortError' ? `: ${errorMessage(reason)}` : '';
    this.#stop('aborted', new AbortError(`The run was aborted${why}`, { cause: reason }));
  };
  readonly #source: SourceInlet<unknown>;
  readonly #channels: Channel<unknown>[] = [];
  /** A last forEach run inside the stage before it, when there is one (see InlineForEach). */
  readonly #inline: InlineForEach | undefined;
  /** Each stage's outlet, where it has one. */
  readonly #outputs: (Outlet<unknown> | undefined)[] = [];
  readonly #stats: StageStats[] = [];
  readonly #insight: RunInsight;
  /**
   * How the run ends: resolved when every stage has finished, rejected as soon as it fails. One
   * promise settled from both sides, where racing the work against a failure made a race per run.
   */
  readonly #outcome: Promise<void>;
  #workDone: () => void = ignore;
  #rejectFailure: (error: unknown) => void = ignore;
  #status: RunStatus | undefined;
  /** Read by every lane for every item: a plain field, set once with #status. */
  stopped = false;
  #error: unknown;
  #report: RunReport | undefined;
  /** Outputs of the last stage still buffered, never read by the terminal, when the run stopped. */
  #undelivered = 0;
  /**
   * Outputs taken from the last channel (or, for a flow with no stage, the source) and not yet
   * handed to the terminal: undelivered if the run stops.
   */
  #pulledAhead = 0;
  /** Outputs the async reader took in one go, handed out one per `next()` (see `next`). */
  #chunk: T[] = [];
  #chunkAt = 0;
  /** The consuming terminal's function, when there is no stage to hand it outputs. */
  readonly #consume: ((value: unknown) => void) | undefined;
  readonly #startedAt = new Date();
  readonly #startedMs: number;
  /** When the run ended, on its clock: a report built later still says how long it ran. */
  #endedMs: number | undefined;
  /** Where the last stage's output comes out: the terminal reads here. */
  readonly output: Inlet<T>;

  /**
   * @param terminal what happens to the outputs (see `Terminal`).
   */
  constructor(
    source: Source<unknown>,
    specs: readonly StageSpec[],
    options: CheckedRunOptions,
    terminal: Terminal<T> = 'read',
  ) {
    this.clock = options.clock ?? systemClock;
    this.#startedMs = this.clock.now();
    this.#outcome = new Promise<void>((resolve, reject) => {
      this.#workDone = resolve;
      this.#rejectFailure = reject;
    });
    // Nobody may be listening when the run fails before its terminal awaits; the error is rethrown there.
    this.#outcome.catch(ignore);

    this.#external = options.signal ?? scopedRunSignal();
    const first = specs[0];
    this.#source = openSource(
      source,
      first === undefined
        ? 16
        : first.kind === 'cpu'
          ? CPU_SOURCE_BUFFER
          : first.kind === 'batch'
            ? Math.max(16, first.size)
            : defaultBuffer(first.concurrency),
    );
    let input: Inlet<unknown> = this.#source;
    const stages: { start(): Promise<void> }[] = [this.#source];
    for (const spec of specs) {
      this.#stats.push(new StageStats(spec.name, spec.kind, spec.kind === 'batch' ? 1 : spec.concurrency));
    }
    // A forEach after another stage runs in that stage's turn: no channel, no lane of its own.
    const lastSpec = specs[specs.length - 1];
    const beforeLast = specs[specs.length - 2];
    this.#inline =
      lastSpec?.kind === 'forEach' && beforeLast !== undefined
        ? new InlineForEach(lastSpec, this.#stats[specs.length - 1] as StageStats, this, beforeLast.buffer)
        : undefined;
    for (const [i, spec] of specs.entries()) {
      const stats = this.#stats[i] as StageStats;
      if (spec === lastSpec && this.#inline !== undefined) {
        stages.push(this.#inline);
        this.#outputs.push(undefined);
        input = closedInlet;
        break;
      }
      const last = i === specs.length - 1;
      const output =
        i === specs.length - 2 && this.#inline !== undefined
          ? this.#inline
          : last
            ? this.#lastOutlet(spec, terminal)
            : new Channel<unknown>(spec.buffer);
      if (output instanceof Channel) this.#channels.push(output);
      this.#outputs.push(output);
      stages.push(
        spec.kind === 'batch'
          ? new BatchStage(spec, input, output as Outlet<unknown[]>, stats, this)
          : spec.kind === 'cpu'
            ? new PoolStage(spec, input, output, stats, this)
            : new LaneStage(spec, input, output, stats, this),
      );
      input = output instanceof Channel ? output : closedInlet;
    }
    this.output = input as Inlet<T>;
    // With no stage to hand it outputs, a consuming terminal reads the source itself (see drain).
    this.#consume =
      typeof terminal === 'function' && specs.length === 0
        ? (terminal as (value: unknown) => void)
        : undefined;
    this.#insight = new RunInsight(
      this.#stats,
      stageTotals(source, specs),
      () => this.#outputs.map((channel) => channel?.size ?? 0),
      this.clock,
      { progress: options.progress, logger: options.logger },
    );
    this.#insight.start();

    // Checked before anything starts: lanes call functions synchronously as they start.
    if (this.#external?.aborted) this.#onExternalAbort();
    else this.#external?.addEventListener('abort', this.#onExternalAbort, { once: true });
    const starts = this.stopped ? [] : stages.map((stage) => stage.start());
    for (const start of starts) start.catch((error: unknown) => this.fail(error));
    // A stage that fails fails the run (above), which settles the outcome: its rejection here is a copy.
    Promise.all(starts).then(this.#workDone, ignore);
  }

  /** Aborts when the run fails, is aborted or is cancelled; made when first read. */
  get signal(): AbortSignal {
    return this.#signal.signal;
  }

  /**
   * The last stage's outlet: none when nothing comes out (forEach) or it is thrown away (`run()`,
   * so the last lane stage also runs unordered); the terminal's function itself when it consumes
   * each output as it comes; else a channel the terminal reads.
   */
  #lastOutlet(spec: StageSpec, terminal: Terminal<T>): Outlet<unknown> | undefined {
    if (spec.kind === 'forEach' || (terminal === 'discard' && spec.kind !== 'batch')) return undefined;
    if (typeof terminal === 'function') {
      return new ConsumingOutlet(terminal as (value: unknown) => void, (error) =>
        this.fail(this.#terminalError(error)),
      );
    }
    return new Channel<unknown>(spec.buffer);
  }

  invoker(spec: LaneSpec, stats: StageStats): Invoker {
    return makeInvoker(spec, stats, this.#signal, this.clock);
  }

  fail(error: unknown): void {
    this.#stop('failed', error);
  }

  /** Stops a run whose consumer left early (a `break` out of `for await`). Not an error. */
  cancel(): void {
    this.#stop('cancelled', undefined);
  }

  /**
   * Resolves once every stage has finished; rejects as soon as the run fails. The report is not
   * built here: `report()` builds it from the figures frozen at the end, for the terminals that
   * return it and for whoever listens on `sluice:run:end`.
   */
  async finished(): Promise<void> {
    await this.#outcome;
    // A run stopped before it started has no work to wait for, and must still reject.
    if (this.#status === 'failed' || this.#status === 'aborted') throw this.#error;
    this.#finish('completed');
  }

  /**
   * Waits for the run to complete. A consuming terminal whose flow has no stage reads the source
   * here; other outputs reach their terminal through the last stage's outlet, or are read by the
   * caller from `output`.
   */
  async drain(): Promise<void> {
    const each = this.#consume;
    if (each === undefined) return this.finished();
    const output = this.output;
    try {
      for (;;) {
        // Many at once: a call per item here was a tenth of a cpu() flow's main thread.
        const values = output.tryPullMany(DRAIN_CHUNK);
        if (values.length === 0) {
          if (output.done || !(await output.readable())) break;
          continue;
        }
        let i = 0;
        try {
          for (; i < values.length; i++) each(values[i]);
        } catch (error) {
          // Taken from the source but never handed over: undelivered.
          this.#pulledAhead = values.length - i - 1;
          throw this.#terminalError(error);
        }
      }
    } catch (error) {
      this.fail(error);
      await this.#outcome;
    }
    return this.finished();
  }

  /**
   * The async reader's next output. Outputs are taken from the last channel a chunk at a time and
   * handed out from it, so a reader costs the one promise per item the iterator protocol needs,
   * and the stages feeding the channel are not woken once per item. A stopped run hands out
   * nothing more from the chunk: what is left in it is undelivered.
   */
  next(): Promise<IteratorResult<T>> {
    const value = this.nextReady();
    return value === EMPTY ? this.#nextChunk() : Promise.resolve({ value, done: false });
  }

  /**
   * The next output if one is ready now, else EMPTY (then `next()` waits for it, or says the run is
   * done): for a reader that takes many in one turn, as a Node stream fills its buffer.
   */
  nextReady(): T | typeof EMPTY {
    const at = this.#chunkAt;
    if (at < this.#chunk.length && !this.stopped) {
      const value = this.#chunk[at] as T;
      this.#chunk[at] = undefined as T;
      this.#chunkAt = at + 1;
      this.#pulledAhead--;
      return value;
    }
    return this.stopped ? EMPTY : this.#takeChunk();
  }

  /** Takes what the last channel holds as the new chunk, and hands out its first; EMPTY if none. */
  #takeChunk(): T | typeof EMPTY {
    const values = this.output.tryPullMany(DRAIN_CHUNK);
    if (values.length === 0) return EMPTY;
    this.#chunk = values;
    this.#chunkAt = 1;
    this.#pulledAhead = values.length - 1;
    return values[0] as T;
  }

  /** Waits for the next output, when none was ready; done once the run has finished. */
  async #nextChunk(): Promise<IteratorResult<T>> {
    const output = this.output;
    while (!this.stopped && !output.done && (await output.readable()) && !this.stopped) {
      const value = this.#takeChunk();
      if (value !== EMPTY) return { value, done: false };
    }
    await this.finished();
    return { value: undefined, done: true };
  }

  #terminalError(error: unknown): Error {
    return new TerminalError(`The terminal's function threw: ${errorMessage(error)}`, {
      cause: error,
    });
  }

  #stop(status: RunStatus, error: unknown): void {
    if (this.#status !== undefined) return;
    this.#status = status;
    this.stopped = true;
    this.#error = error;
    this.#signal.abort(error ?? new AbortError('The run was cancelled'));
    const first = this.#stats[0];
    const dropped = this.#source.stop(error);
    first?.drop(dropped);
    const teardown = error ?? new AbortError('The run was cancelled');
    for (const [i, channel] of this.#channels.entries()) {
      const n = channel.fail(teardown);
      const next = this.#stats[i + 1];
      if (next !== undefined) next.drop(n);
      else this.#undelivered = n;
    }
    if (this.#inline !== undefined) this.#stats[this.#stats.length - 1]?.drop(this.#inline.fail(teardown));
    this.#undelivered += this.#pulledAhead;
    this.#external?.removeEventListener('abort', this.#onExternalAbort);
    this.#insight.stop();
    this.#endedMs = this.clock.now();
    // Built at once: the error carries it.
    const report = this.report();
    this.#insight.ended(() => report);
    if (error !== null && typeof error === 'object' && Object.isExtensible(error) && isSluiceError(error)) {
      Object.defineProperty(error, 'report', { value: report, configurable: true });
    }
    this.#rejectFailure(error);
  }

  #finish(status: RunStatus): void {
    if (this.#status !== undefined) return;
    this.#status = status;
    this.stopped = true;
    this.#external?.removeEventListener('abort', this.#onExternalAbort);
    this.#insight.stop();
    this.#endedMs = this.clock.now();
    this.#insight.ended(() => this.report());
  }

  /** A snapshot of the counts; frozen once the run has ended. */
  report(): RunReport {
    if (this.#report !== undefined) return this.#report;
    const error = this.#error;
    const insight = this.#insight.report();
    const report: RunReport = {
      status: this.#status ?? 'completed',
      startedAt: this.#startedAt.toISOString(),
      durationMs: (this.#endedMs ?? this.clock.now()) - this.#startedMs,
      source: { items: this.#source.items },
      stages: this.#stats.map((s, i) => s.toReport(insight.stages[i] as StageInsight)),
      undelivered: this.#undelivered,
      eventLoop: insight.eventLoop,
      ...(insight.bottleneck === undefined ? {} : { bottleneck: insight.bottleneck }),
      warnings: insight.warnings,
      ...(error === undefined
        ? {}
        : {
            error: {
              code: isSluiceError(error) ? (error as { code: string }).code : 'SLUICE_ERR_UNKNOWN',
              message: errorMessage(error),
            },
          }),
    };
    if (this.#status !== undefined) this.#report = report;
    return report;
  }
}

/**
 * Items each stage will see, where that is known: the source is an array (or a Set or Map) and
 * every stage before is one-to-one (map, tap, cpu); a batch stage sees the batches' count.
 */
function stageTotals(source: Source<unknown>, specs: readonly StageSpec[]): (number | undefined)[] {
  let total: number | undefined = Array.isArray(source)
    ? source.length
    : source instanceof Set || source instanceof Map
      ? source.size
      : undefined;
  return specs.map((spec) => {
    const seen = total;
    if (total !== undefined) {
      if (spec.kind === 'batch') total = Math.ceil(total / spec.size);
      else if (spec.kind === 'filter' || spec.kind === 'flatMap' || spec.kind === 'forEach')
        total = undefined;
    }
    return seen;
  });
}

/** A pool takes items by the thousand when they are small: an async source must be able to keep up. */
const CPU_SOURCE_BUFFER = 1024;

/** Outputs the terminal takes from the last channel per call. */
const DRAIN_CHUNK = 1024;

/** The output of a flow that ends in forEach: nothing comes out. */
const closedInlet: Inlet<never> = {
  tryPull: () => EMPTY,
  tryPullMany: () => [],
  readable: () => Promise.resolve(false),
  done: true,
  size: 0,
};
