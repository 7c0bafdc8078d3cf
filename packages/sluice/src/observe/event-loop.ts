/**
 * The main thread's health during a run: how busy its event loop was (utilization, from
 * `performance.eventLoopUtilization`) and how late timers fired (delay, from a timer shared by
 * every run, see `loop-delay.ts`). A loop that is busy near 100% of the time, or whose delay p99
 * runs to tens of milliseconds, is computing where it should be waiting: that is what the
 * classifier and the blocking warning look for.
 */
import type { EventLoopUtilization } from 'node:perf_hooks';
import { watchLoopDelay } from './loop-delay.js';
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
  readonly #start: EventLoopUtilization = performance.eventLoopUtilization();
  #last: EventLoopUtilization = this.#start;
  #final: EventLoopReport | undefined;

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
    const d = this.#delay.histogram;
    const seen = d.count > 0;
    return {
      utilization: round(whole.utilization),
      busyMs: round(whole.active),
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
