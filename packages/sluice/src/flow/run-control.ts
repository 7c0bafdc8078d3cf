import type { Clock } from '../core/clock.js';
import type { Invoker } from './invoke.js';
import type { StageStats } from './report.js';
import type { LaneSpec } from './stage-spec.js';

/** What a running stage may see of its run: whether it stopped, its signal and clock, and how to fail it. */
export interface RunControl {
  /** True once the run failed, was aborted or was cancelled: lanes stop taking items. */
  readonly stopped: boolean;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** Stops the run with `error`; the first call wins. */
  fail(error: unknown): void;
  /** The stage's function wrapped in its policies, bound to this run. */
  invoker(spec: LaneSpec, stats: StageStats): Invoker;
}
