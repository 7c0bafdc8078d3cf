/**
 * The run report's shape: what happened to every item, per stage. Plain data, JSON-serialisable,
 * and its counts add up: for every stage,
 * entered = emitted + filtered + skipped + deadLettered + failed + cancelled.
 *
 * Apart from the live counters that build it (flow/report.ts), so that what reads a report (the
 * text formatter, progress, users) depends on its shape, not on the engine.
 */

import type { LimitReport } from '../limit/adaptive-limiter.js';
import type { Bottleneck } from './classify.js';
import type { EventLoopReport } from './event-loop.js';
import type { InsightWarning, StageInsight } from './run-insight.js';

/** The kinds of stage the lane engine runs. `forEach` consumes items and passes nothing on. */
export type LaneKind = 'map' | 'filter' | 'flatMap' | 'tap' | 'forEach';
/** `cpu` is a map whose function runs on a worker pool: `map(cpu(url))`. */
export type StageKind = LaneKind | 'batch' | 'cpu';

export type RunStatus = 'completed' | 'failed' | 'aborted' | 'cancelled';

export interface StageReport extends StageInsight {
  readonly name: string;
  readonly kind: StageKind;
  /** The stage's concurrency; for an adaptive stage, its limit when the run ended (see `limit`). */
  readonly concurrency: number;
  /** Present for `concurrency: 'adaptive'`: where the limit started, went and ended. */
  readonly limit?: LimitReport;
  /** cpu() stages whose executor reports on itself (remote workers): per-worker counts and the like. */
  readonly executor?: Readonly<Record<string, unknown>>;
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
