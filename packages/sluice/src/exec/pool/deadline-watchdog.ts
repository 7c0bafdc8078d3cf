/**
 * Deadlines a worker cannot be trusted to keep. A task that overruns its `timeout` is asked to stop
 * through its signal; one that ignores it for `deadlineGraceMs` more has its worker replaced, and
 * the item fails with SLUICE_ERR_TIMEOUT (crash-recovery.ts). The watchdog ticks only while some
 * running item has a deadline, on the pool's clock, and never holds the process open.
 */
import type { Clock } from '../../core/clock.js';
import { TimeoutError } from '../../core/errors.js';
import type { Piece } from './pieces.js';
import { type ControlViews, epochNow, runningItem } from './protocol.js';

export class DeadlineWatchdog {
  readonly #clock: Clock;
  readonly #period: number;
  readonly #check: () => boolean;
  #timer: unknown;

  /**
   * @param check looks for overruns; returns true while any running item still has a deadline.
   */
  constructor(clock: Clock, graceMs: number, check: () => boolean) {
    this.#clock = clock;
    this.#period = Math.max(10, Math.min(100, graceMs / 2));
    this.#check = check;
  }

  /** Ticks until `check` finds no deadline left (or `stop`). */
  start(): void {
    if (this.#timer !== undefined) return;
    const tick = (): void => {
      this.#timer = this.#check() ? this.#clock.setTimeout(tick, this.#period) : undefined;
      (this.#timer as { unref?: () => void } | undefined)?.unref?.();
    };
    this.#timer = this.#clock.setTimeout(tick, this.#period);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * Which item of `head`, the piece a worker is running, is past its deadline and grace: its
 * position, or undefined. A thread worker says which item it runs and since when (its control
 * block); a process worker runs one item per piece when there is a deadline, timed from when the
 * piece became the head of its queue (`headSince`, on the pool's clock).
 */
export function overdueItem(
  head: Piece,
  control: ControlViews | undefined,
  now: number,
  graceMs: number,
): number | undefined {
  const timeout = head.job.timeout;
  if (timeout === undefined) return undefined;
  if (control === undefined) return now - head.headSince > timeout + graceMs ? 0 : undefined;
  const position = runningItem(control, head.id);
  if (position < 0) return undefined;
  return epochNow() - (control.started[0] as number) > timeout + graceMs ? position : undefined;
}

export function deadlineError(timeout: number | undefined, graceMs: number): TimeoutError {
  return new TimeoutError(
    `The task overran its ${timeout} ms deadline by more than ${graceMs} ms and its worker was replaced`,
  );
}
