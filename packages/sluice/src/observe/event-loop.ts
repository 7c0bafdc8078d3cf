/**
 * The main thread's health during a run: how busy its event loop was (utilization, from
 * `performance.eventLoopUtilization`, read through `meter.ts`) and how late timers fired (delay,
 * from a timer shared by every run, see `loop-delay.ts`). A loop that is busy near 100% of the
 * time, or whose delay p99 runs to tens of milliseconds, is computing where it should be waiting:
 * that is what the classifier and the blocking warning look for.
 */
import { watchLoopDelay } from './loop-delay.js';
import { meter } from './meter.js';
import { round } from './stage-metrics.js';

export interface EventLoopReport {
  /** Share of the run's wall time the event loop spent running code, 0 to 1. */
  readonly utilization: number;
  /** Milliseconds the loop was busy during the run. */
  readonly busyMs: number;
  /** How late the loop answered, ms (sampled every 10 ms). */
  readonly delayMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

export class EventLoopMonitor {
  readonly #delay = watchLoopDelay();
  readonly #startMs = meter.current.now();
  readonly #startActiveMs = meter.current.loopActiveMs();
  #final: EventLoopReport | undefined;

  /** Milliseconds the loop has been busy since the monitor started; after stop(), during the run. */
  get busyMs(): number {
    if (this.#final !== undefined) return this.#final.busyMs;
    return Math.max(0, meter.current.loopActiveMs() - this.#startActiveMs);
  }

  /** The numbers so far; after stop(), the final ones. */
  report(): EventLoopReport {
    if (this.#final !== undefined) return this.#final;
    const elapsedMs = meter.current.now() - this.#startMs;
    const busyMs = this.busyMs;
    const d = this.#delay.histogram;
    const seen = d.count > 0;
    return {
      utilization: round(elapsedMs > 0 ? Math.min(1, busyMs / elapsedMs) : 0),
      busyMs: round(busyMs),
      delayMs: {
        p50: seen ? round(d.percentile(50)) : 0,
        p99: seen ? round(d.percentile(99)) : 0,
        max: seen ? round(d.max) : 0,
      },
    };
  }

  /** Freezes the numbers and stops the monitor's timer. */
  stop(): EventLoopReport {
    if (this.#final === undefined) {
      this.#final = this.report();
      this.#delay.stop();
    }
    return this.#final;
  }
}
