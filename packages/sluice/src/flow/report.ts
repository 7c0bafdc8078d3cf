/**
 * The live counters of each stage, which become the run report (its shape is in
 * observe/run-report.ts). They sit on the hot path: plain fields, no getters on the way in.
 */

import type { AdaptiveLimiter } from '../limit/adaptive-limiter.js';
import type { Objective } from '../limit/gradient-limit.js';
import { executorReport, type ObservedStage, type StageInsight } from '../observe/run-insight.js';
import type { StageKind, StageReport } from '../observe/run-report.js';
import { StageMetrics } from '../observe/stage-metrics.js';

/** The live counters of one stage. Plain fields: they sit on the hot path. */
export class StageStats implements ObservedStage {
  entered = 0;
  emitted = 0;
  filtered = 0;
  skipped = 0;
  deadLettered = 0;
  failed = 0;
  /** Items dropped from the stage's input buffer at teardown: entered, never taken. */
  dropped = 0;
  outputs = 0;
  retries = 0;
  timeouts = 0;
  /** Items between two attempts (a retry's backoff) now: they hold no call, and the stage may run others in their place. */
  backingOff = 0;
  /** Told when an item starts a backoff: the stage it belongs to may start a lane or a call in its place. */
  onBackoff: (() => void) | undefined = undefined;
  /** Sampled timings of the stage's calls. */
  readonly metrics = new StageMetrics();
  /** cpu() stages: worker milliseconds spent on this stage's items. */
  workerBusyMs = 0;
  /** cpu() stages: of `workerBusyMs`, the milliseconds its items ran on the calling thread's loop. */
  loopMs = 0;
  readyAtMs: number | undefined = undefined;
  /** Set by an adaptive stage's invoker, for the run it belongs to. */
  limit: AdaptiveLimiter | undefined = undefined;
  /** Set by a cpu() stage whose executor reports on itself. */
  executor: { report(): Readonly<Record<string, unknown>> } | undefined = undefined;

  constructor(
    readonly name: string,
    readonly kind: StageKind,
    readonly concurrency: number,
  ) {}

  /** Counts `n` items found in the stage's input buffer at teardown: they entered, and were never taken. */
  drop(n: number): void {
    this.dropped += n;
    this.entered += n;
  }

  /** Items taken and not yet settled: in flight, or finished and waiting for their turn to be emitted. */
  get unsettled(): number {
    return (
      this.entered -
      this.dropped -
      this.emitted -
      this.filtered -
      this.skipped -
      this.deadLettered -
      this.failed
    );
  }

  /** An adaptive stage's objective; undefined at a fixed concurrency. */
  get objective(): Objective | undefined {
    return this.limit?.objective;
  }

  /** Lanes or workers it could keep busy: for an adaptive stage, where its limit settled. */
  get capacity(): number {
    return Math.max(1, this.limit?.report().total.final ?? this.concurrency);
  }

  get taken(): number {
    return this.entered - this.dropped;
  }

  get settled(): number {
    return this.entered - this.dropped - this.unsettled;
  }

  toReport(insight: StageInsight): StageReport {
    const limit = this.limit?.report();
    return {
      name: this.name,
      kind: this.kind,
      concurrency: limit?.total.final ?? this.concurrency,
      ...(limit === undefined ? {} : { limit }),
      ...(this.executor === undefined ? {} : { executor: executorReport(this.executor) }),
      entered: this.entered,
      emitted: this.emitted,
      filtered: this.filtered,
      skipped: this.skipped,
      deadLettered: this.deadLettered,
      failed: this.failed,
      cancelled: this.unsettled + this.dropped,
      outputs: this.outputs,
      retries: this.retries,
      timeouts: this.timeouts,
      ...insight,
    };
  }
}
