/**
 * The run report: what happened to every item, per stage. It is plain data, JSON-serialisable,
 * and its counts add up: for every stage,
 * entered = emitted + filtered + skipped + deadLettered + failed + cancelled.
 */

import type { LimitReport } from '../limit/adaptive-limiter.js';
import type { Bottleneck } from '../observe/classify.js';
import type { EventLoopReport } from '../observe/event-loop.js';
import type { InsightWarning, ObservedStage, StageInsight } from '../observe/run-insight.js';
import { StageMetrics } from '../observe/stage-metrics.js';
import type { StageKind } from './stage-spec.js';

export type RunStatus = 'completed' | 'failed' | 'aborted' | 'cancelled';

export interface StageReport extends StageInsight {
  readonly name: string;
  readonly kind: StageKind;
  /** The stage's concurrency; for an adaptive stage, its limit when the run ended (see `limit`). */
  readonly concurrency: number;
  /** Present for `concurrency: 'adaptive'`: where the limit started, went and ended. */
  readonly limit?: LimitReport;
  /** Items that entered the stage's input. */
  readonly entered: number;
  /** Items processed and passed on (for forEach: processed). */
  readonly emitted: number;
  /** Items a filter dropped. */
  readonly filtered: number;
  /** Items that failed for good and were skipped by `onError: 'skip'`. */
  readonly skipped: number;
  /** Items handed to the dead-letter handler. */
  readonly deadLettered: number;
  /** Items whose failure failed the run. */
  readonly failed: number;
  /** Items in flight or buffered when the run stopped early. */
  readonly cancelled: number;
  /** Items passed downstream: one per emitted item for map, many for flatMap, one per batch. */
  readonly outputs: number;
  /** Attempts retried. */
  readonly retries: number;
  /** Attempts that passed their deadline. */
  readonly timeouts: number;
}

export interface RunReport {
  readonly status: RunStatus;
  /** ISO timestamp of the start. */
  readonly startedAt: string;
  readonly durationMs: number;
  /** Items read from the source. */
  readonly source: { readonly items: number };
  readonly stages: readonly StageReport[];
  /**
   * Outputs of the last stage that were buffered for the terminal (collect, reduce, a for-await
   * loop) and never read because the run stopped. Always 0 for a completed run.
   */
  readonly undelivered: number;
  /** Why the run did not complete. */
  readonly error?: { readonly code: string; readonly message: string };
  /** The main thread's event loop during the run: how busy, how late. */
  readonly eventLoop: EventLoopReport;
  /** The stage that set the pace, and why it is named. */
  readonly bottleneck?: Bottleneck;
  /** Problems the run noticed about itself, such as a stage blocking the event loop. */
  readonly warnings: readonly InsightWarning[];
}

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
  /** Sampled timings of the stage's calls. */
  readonly metrics = new StageMetrics();
  /** cpu() stages: worker milliseconds spent on this stage's items. */
  workerBusyMs = 0;
  readyAtMs: number | undefined = undefined;
  /** Set by an adaptive stage's invoker, for the run it belongs to. */
  limit: { report(): LimitReport } | undefined = undefined;

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

  /** Lanes or workers it could keep busy: for an adaptive stage, where its limit settled. */
  get capacity(): number {
    return Math.max(1, this.limit?.report().final ?? this.concurrency);
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
      concurrency: limit?.final ?? this.concurrency,
      ...(limit === undefined ? {} : { limit }),
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
