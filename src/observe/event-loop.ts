/**
 * The main thread's health during a run: how busy its event loop was (utilization, from
 * `performance.eventLoopUtilization`) and how late timers fired (delay, from
 * `monitorEventLoopDelay`). A loop that is busy near 100% of the time, or whose delay p99 runs to
 * tens of milliseconds, is computing where it should be waiting: that is what the classifier and
 * the blocking warning look for.
 */
import { type EventLoopUtilization, type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { round } from './stage-metrics.js';

export interface EventLoopReport {
  /** Share of the run's wall time the event loop spent running code, 0 to 1. */
  readonly utilization: number;
  /** Milliseconds the loop was busy during the run. */
  readonly busyMs: number;
  /** How late the loop answered, ms (sampled every 10 ms). */
  readonly delayMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

/** The delay monitor's own timer period: fine enough to see a 20 ms stall. */
const RESOLUTION_MS = 10;

export class EventLoopMonitor {
  readonly #delay: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  readonly #start: EventLoopUtilization = performance.eventLoopUtilization();
  #last: EventLoopUtilization = this.#start;
  #final: EventLoopReport | undefined;

  constructor() {
    this.#delay.enable();
  }

  /** Busy share of the loop since the previous call (or the start). */
  window(): { utilization: number; busyMs: number } {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, this.#last);
    this.#last = now;
    return { utilization: delta.utilization, busyMs: delta.active };
  }

  /** The numbers so far; after stop(), the final ones. */
  report(): EventLoopReport {
    if (this.#final !== undefined) return this.#final;
    const whole = performance.eventLoopUtilization(performance.eventLoopUtilization(), this.#start);
    const d = this.#delay;
    const seen = d.count > 0;
    return {
      utilization: round(whole.utilization),
      busyMs: round(whole.active),
      delayMs: {
        // The histogram counts from the timer's due time: subtract its own period to get the lateness.
        p50: seen ? round(Math.max(0, d.percentile(50) / 1e6 - RESOLUTION_MS)) : 0,
        p99: seen ? round(Math.max(0, d.percentile(99) / 1e6 - RESOLUTION_MS)) : 0,
        max: seen ? round(Math.max(0, d.max / 1e6 - RESOLUTION_MS)) : 0,
      },
    };
  }

  /** Freezes the numbers and stops the monitor's timer. */
  stop(): EventLoopReport {
    if (this.#final === undefined) {
      this.#final = this.report();
      this.#delay.disable();
    }
    return this.#final;
  }
}
