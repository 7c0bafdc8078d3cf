/**
 * What a run learns about itself while it goes: a tick once a second (on the run's clock) takes a
 * snapshot of every stage, publishes it, draws progress when asked, and watches for a stage that
 * keeps the event loop busy with synchronous work. At the end it turns the stages' measurements
 * into the report's insight: latency, busy share, classification, the bottleneck, the loop's health.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Objective } from '../limit/gradient-limit.js';
import { runEndChannel, runProgressChannel, runStartChannel, warningChannel } from './channels.js';
import {
  type Bottleneck,
  type Classification,
  classify,
  findBottleneck,
  IO_BOUND_BELOW,
  LIGHT_BELOW_MS,
  type RunSample,
  type StageSample,
} from './classify.js';
import { EventLoopMonitor, type EventLoopReport } from './event-loop.js';
import type { Logger } from './logger.js';
import { meter } from './meter.js';
import {
  type ProgressOptions,
  ProgressPrinter,
  type ProgressSnapshot,
  type StageSnapshot,
  workersOf,
} from './progress.js';
import { type LatencySummary, round, type StageMetrics } from './stage-metrics.js';

/** What the insight reads of a stage: its counters and its measurements. */
export interface ObservedStage {
  readonly name: string;
  readonly kind: string;
  readonly concurrency: number;
  /** What its busy share is judged against: its concurrency, or an adaptive stage's settled limit. */
  readonly capacity: number;
  /** An adaptive stage's objective: the advice for a loop its calls fill is about its limit, not a concurrency. */
  readonly objective?: Objective | undefined;
  /** Items taken (entered and not dropped at teardown). */
  readonly taken: number;
  /** Items finished, whichever way. */
  readonly settled: number;
  readonly unsettled: number;
  readonly metrics: StageMetrics;
  /** cpu() stages: worker milliseconds spent on the stage's items. */
  readonly workerBusyMs: number;
  /** Of it, the milliseconds that ran on the event loop (a pool's head start). */
  readonly loopMs: number;
  /** cpu() stages: when (performance.now()) its workers were ready; busy time is judged from then. */
  readonly readyAtMs: number | undefined;
  /** cpu() stages whose executor reports on itself (remote workers, say). */
  readonly executor?: { report(): Readonly<Record<string, unknown>> } | undefined;
}

/** An executor's own report; one that throws must not cost the run its report or its progress. */
export function executorReport(executor: {
  report(): Readonly<Record<string, unknown>>;
}): Readonly<Record<string, unknown>> {
  try {
    return executor.report();
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

export interface InsightWarning {
  readonly code: 'SLUICE_W_LOOP_BLOCKED';
  readonly stage: string;
  readonly message: string;
}

/** The measured part of a stage's report. */
export interface StageInsight {
  /** Items in flight when the report was taken. */
  readonly inFlight: number;
  /** Items waiting in its output buffer when the report was taken. */
  readonly buffered: number;
  /** Share of its lanes' (or workers') time spent with an item, 0 to 1. */
  readonly busy: number;
  readonly latencyMs?: LatencySummary;
  readonly classification?: Classification;
}

export interface RunInsightReport {
  readonly stages: StageInsight[];
  readonly eventLoop: EventLoopReport;
  readonly bottleneck?: Bottleneck;
  readonly warnings: InsightWarning[];
}

export interface InsightOptions {
  readonly progress: ProgressOptions | undefined;
  readonly logger: Logger | undefined;
}

/** Seconds between ticks when no progress display asks for more. */
const TICK_MS = 1000;
/** A stage whose synchronous calls fill this share of a tick (or of a whole short run) blocks the loop. */
const BLOCKING_SHARE = 0.5;
/** Two synchronous calls this long are worth a warning on their own (one may be a preemption). */
const LONG_BLOCK_MS = 100;
/**
 * Calls shorter than this are not worth moving to a worker: a message to a pool and back costs
 * about as much, so a stage of tiny synchronous calls is left alone however busy it keeps the loop.
 */
const WORTH_MOVING_MS = LIGHT_BELOW_MS;
/** A stage is judged on at least this many timed calls: the first is often slow, being the first. */
const MIN_SAMPLES = 8;
/** Runs shorter than this are not judged on their whole: a blip is not a pattern. */
const MIN_JUDGED_MS = 100;

export class RunInsight {
  #runId: string | undefined;
  readonly #stages: readonly ObservedStage[];
  readonly #buffered: () => number[];
  readonly #totals: (number | undefined)[];
  readonly #clock: Clock;
  readonly #startedMs: number;
  /** Real time, for judging real measurements whatever the run's clock. */
  readonly #realStart = meter.current.now();
  #realEnd: number | undefined;
  readonly #loop = new EventLoopMonitor();
  readonly #printer: ProgressPrinter | undefined;
  readonly #logger: Logger | undefined;
  readonly #tickMs: number;
  #timer: TimerHandle | undefined;
  #lastTickMs: number;
  /** The loop's busy milliseconds at the last tick (EventLoopMonitor.busyMs). */
  #lastLoopBusyMs = 0;
  #lastSettled: number[];
  #lastTaken: number[];
  #stopped = false;
  readonly warnings: InsightWarning[] = [];
  readonly #warned = new Set<string>();

  /**
   * @param totals items each stage will see, where known
   * @param buffered the number of items in each stage's output buffer, read at each tick
   */
  constructor(
    stages: readonly ObservedStage[],
    totals: (number | undefined)[],
    buffered: () => number[],
    clock: Clock,
    options: InsightOptions,
  ) {
    this.#stages = stages;
    this.#totals = totals;
    this.#buffered = buffered;
    this.#clock = clock;
    this.#startedMs = clock.now();
    this.#lastTickMs = this.#startedMs;
    this.#lastSettled = stages.map(() => 0);
    this.#lastTaken = stages.map(() => 0);
    this.#logger = options.logger;
    this.#printer = options.progress === undefined ? undefined : new ProgressPrinter(options.progress);
    this.#tickMs = Math.min(TICK_MS, this.#printer?.intervalMs ?? TICK_MS);
    for (const stage of stages) {
      if (stage.kind === 'cpu' || stage.kind === 'batch') continue;
      stage.metrics.blockAlertMs = LONG_BLOCK_MS;
      stage.metrics.onLongBlock = this.#longBlockAlert(stage);
    }
  }

  /** What a stage's metrics call when its calls keep holding the loop (see `StageMetrics.onLongBlock`). */
  #longBlockAlert(stage: ObservedStage): (ms: number) => void {
    return (ms) => this.#warnBlocking(stage, `calls held it for as long as ${ms.toFixed(0)} ms`);
  }

  /**
   * Made on first read, by a diagnostics channel's subscriber: node:crypto costs every program
   * that imports sluice about 3 ms, and a run nobody watches needs no id.
   */
  get runId(): string {
    this.#runId ??= process.getBuiltinModule('node:crypto').randomUUID();
    return this.#runId;
  }

  start(): void {
    if (runStartChannel.hasSubscribers) {
      runStartChannel.publish({ runId: this.runId, stages: this.#stages.map((s) => s.name) });
    }
    this.#schedule();
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => this.#tick(), this.#tickMs);
    // A run in progress keeps the process alive through its own work, never through this timer.
    (this.#timer as { unref?: () => void } | undefined)?.unref?.();
  }

  #tick(): void {
    if (this.#stopped) return;
    const now = this.#clock.now();
    const windowMs = now - this.#lastTickMs;
    const loopBusyMs = this.#loop.busyMs;
    this.#checkBlocking(windowMs, loopBusyMs - this.#lastLoopBusyMs);
    this.#lastLoopBusyMs = loopBusyMs;
    const snapshot = this.snapshot(windowMs);
    this.#lastTickMs = now;
    this.#lastSettled = this.#stages.map((s) => s.settled);
    this.#lastTaken = this.#stages.map((s) => s.taken);
    if (runProgressChannel.hasSubscribers) runProgressChannel.publish({ runId: this.runId, snapshot });
    if (this.#printer !== undefined && this.#printDue(now)) this.#printer.update(snapshot);
    this.#schedule();
  }

  #lastPrintMs = Number.NEGATIVE_INFINITY;
  #printDue(now: number): boolean {
    if (now - this.#lastPrintMs < (this.#printer?.intervalMs ?? 0) - 1) return false;
    this.#lastPrintMs = now;
    return true;
  }

  /** Every stage as it is now; rates over the `windowMs` since the last tick. */
  snapshot(windowMs = this.#clock.now() - this.#lastTickMs): ProgressSnapshot {
    const buffered = this.#buffered();
    const stages = this.#stages.map((s, i): StageSnapshot => {
      const done = s.settled;
      const ratePerSec = windowMs > 0 ? ((done - (this.#lastSettled[i] ?? 0)) * 1000) / windowMs : 0;
      const total = this.#totals[i];
      const eta =
        total !== undefined && ratePerSec > 0 ? Math.max(0, ((total - done) / ratePerSec) * 1000) : undefined;
      return {
        name: s.name,
        kind: s.kind,
        done,
        inFlight: s.unsettled,
        buffered: buffered[i] ?? 0,
        ratePerSec,
        ...(total === undefined ? {} : { total }),
        ...(eta === undefined ? {} : { etaMs: eta }),
        ...(s.executor === undefined ? {} : workersOf(executorReport(s.executor))),
      };
    });
    return {
      elapsedMs: this.#clock.now() - this.#startedMs,
      stages,
      warnings: this.warnings.map((w) => w.message),
    };
  }

  /**
   * A stage whose synchronous calls filled half the last tick gets its warning. `loopBusyMs`: how
   * long the loop was busy in that tick, which no stage can have held it for longer than.
   */
  #checkBlocking(windowMs: number, loopBusyMs: number): void {
    if (windowMs <= 0) return;
    for (const [i, s] of this.#stages.entries()) {
      if (s.kind === 'cpu' || s.kind === 'batch' || s.metrics.succeeded === 0) continue;
      const calls = s.taken - (this.#lastTaken[i] ?? 0);
      const share = heldAtMost(s, calls, loopBusyMs) / windowMs;
      if (share >= BLOCKING_SHARE)
        this.#warnBlocking(
          s,
          `it kept it busy ${percent(share)} of the last ${(windowMs / 1000).toFixed(1)} s`,
        );
    }
  }

  #warnBlocking(stage: ObservedStage, measured: string): void {
    const m = stage.metrics;
    if (this.#warned.has(stage.name) || m.succeeded < MIN_SAMPLES || m.heldMedianMs < WORTH_MOVING_MS) return;
    this.#warned.add(stage.name);
    const held = m.heldPerCallMs;
    const wall = m.wallPerCallMs ?? 0;
    // Calls that mostly wait (an HTTP client's, thousands at once) can fill the loop with what
    // starting and finishing each one costs: moving them to workers would move the waiting too.
    const advice =
      wall > 0 && held / wall < IO_BOUND_BELOW
        ? `Its calls mostly wait (${held.toFixed(2)} of ${wall.toFixed(1)} ms each on the loop), so cpu() would not help: ` +
          'the loop is saturated by what each call costs to start and finish, and more concurrency only queues them. ' +
          boundAdvice(stage.objective)
        : 'Move it to a task module and run it with cpu() to compute on worker threads and keep the loop free.';
    const message =
      `Stage "${stage.name}" blocks the event loop with synchronous work: ${measured} ` +
      `(${m.heldMedianMs.toFixed(2)} ms per call, longest ${m.longestSyncMs.toFixed(1)} ms). ${advice}`;
    const warning: InsightWarning = { code: 'SLUICE_W_LOOP_BLOCKED', stage: stage.name, message };
    this.warnings.push(warning);
    if (warningChannel.hasSubscribers) warningChannel.publish({ runId: this.runId, warning });
    // One place for it: the run's logger, else the progress display (a line written under a
    // redrawn display would be drawn over), else Node's own warnings.
    if (this.#logger !== undefined) this.#logger.warn({ code: warning.code, stage: stage.name }, message);
    else if (this.#printer === undefined)
      process.emitWarning(message, { code: warning.code, type: 'SluiceWarning' });
  }

  /** Ends the watch: stops the timer and the loop monitor, judges a short run whole, wipes the progress display. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#loop.stop();
    this.#realEnd = meter.current.now();
    const durationMs = this.#realEnd - this.#realStart;
    if (durationMs >= MIN_JUDGED_MS) {
      for (const s of this.#stages) {
        if (s.kind === 'cpu' || s.kind === 'batch' || s.metrics.succeeded === 0) continue;
        const share = heldAtMost(s, s.taken, this.#loop.busyMs) / durationMs;
        if (share >= BLOCKING_SHARE) this.#warnBlocking(s, `it kept it busy ${percent(share)} of the run`);
      }
    }
    this.#printer?.finish();
  }

  /**
   * Publishes the final report on `sluice:run:end`, built only when someone listens: collect(),
   * reduce() and async iteration return no report, and building one is a cold run's last
   * millisecond or two.
   */
  ended(report: () => unknown): void {
    if (runEndChannel.hasSubscribers) runEndChannel.publish({ runId: this.runId, report: report() });
  }

  /** The measured half of the report. */
  report(): RunInsightReport {
    const loop = this.#loop.report();
    const buffered = this.#buffered();
    // Measurements are of the real process: judge them against real time, whatever the run's clock.
    const end = this.#realEnd ?? meter.current.now();
    const realMs = Math.max(end - this.#realStart, 1e-3);
    const samples = this.#stages.map((s) =>
      sample(s, Math.max(end - Math.max(this.#realStart, s.readyAtMs ?? 0), 1e-3), loop.busyMs),
    );
    const run: RunSample = { durationMs: realMs, loopBusyMs: loop.busyMs, loopUtilization: loop.utilization };
    const classes = classify(samples, run);
    const bottleneck = findBottleneck(samples, classes, run);
    return {
      stages: this.#stages.map((s, i) => {
        const latency = s.metrics.latency();
        const c = classes[i];
        return {
          inFlight: s.unsettled,
          buffered: buffered[i] ?? 0,
          busy: round(samples[i]?.busy ?? 0),
          ...(latency === undefined ? {} : { latencyMs: latency }),
          ...(c === undefined ? {} : { classification: c }),
        };
      }),
      eventLoop: loop,
      ...(bottleneck === undefined ? {} : { bottleneck }),
      warnings: [...this.warnings],
    };
  }
}

/**
 * How long `calls` of a stage held the event loop: a call's mean hold (from a sample of its calls,
 * see StageMetrics) times the calls, but never longer than the loop was busy in all. A sampled
 * call stands for thousands: one that a collection or the scheduler held up would otherwise make
 * a stage look busier than the loop was.
 */
function heldAtMost(s: ObservedStage, calls: number, loopBusyMs: number): number {
  return Math.min(s.metrics.heldPerCallMs * calls, loopBusyMs);
}

function sample(s: ObservedStage, durationMs: number, loopBusyMs: number): StageSample {
  const m = s.metrics;
  const wall = m.wallPerCallMs;
  if (s.kind === 'cpu') {
    const cpu = s.taken === 0 ? undefined : s.workerBusyMs / s.taken;
    return {
      name: s.name,
      where: 'workers',
      calls: s.taken,
      wallMsPerItem: wall,
      cpuMsPerItem: cpu,
      heldMs: s.loopMs,
      busy: Math.min(1, s.workerBusyMs / (durationMs * s.concurrency)),
      concurrency: s.concurrency,
    };
  }
  if (s.kind === 'batch') {
    return {
      name: s.name,
      where: 'none',
      calls: s.taken,
      wallMsPerItem: undefined,
      cpuMsPerItem: undefined,
      heldMs: 0,
      busy: 0,
      concurrency: 1,
    };
  }
  // A failed call counts as holding nothing, and its wait counts. A stage none of whose calls
  // succeeded has no label (its errors are the news), though it still takes its share of the loop
  // time no call accounts for.
  const heldMs = heldAtMost(s, s.taken, loopBusyMs);
  return {
    name: s.name,
    where: 'event-loop',
    calls: s.taken,
    wallMsPerItem: wall,
    // A call that succeeded was taken: `taken` is at least 1 here.
    cpuMsPerItem: m.succeeded === 0 ? undefined : heldMs / s.taken,
    heldMs,
    busy: wall === undefined ? 0 : Math.min(1, (wall * s.taken) / (durationMs * s.capacity)),
    concurrency: s.capacity,
  };
}

function percent(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/**
 * How to keep waiting calls from filling the loop: a fixed stage lowers its concurrency; an
 * adaptive one sets none, and its limit follows its objective, so the bound to set is `max`.
 */
function boundAdvice(objective: Objective | undefined): string {
  if (objective === undefined) return 'Lower its concurrency, or make each call lighter.';
  const holds =
    objective === 'throughput'
      ? "holds as many calls as still add to calls a second, and on a full loop a few more still do ('latency' stops sooner)"
      : 'still holds more calls than the loop can start';
  return `Its adaptive limit ('${objective}') ${holds}: bound it with adaptive({ max }), or make each call lighter.`;
}
