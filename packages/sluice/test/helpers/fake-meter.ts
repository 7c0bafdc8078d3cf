import type { Clock } from '../../src/core/clock.js';
import { meter, type ProcessMeter, realMeter } from '../../src/observe/meter.js';
import { FakeClock } from '../../src/testing.js';

/**
 * A meter on fake time, in place of the real process's: the test says what a call costs.
 * `work(ms)` is synchronous computing: the loop is busy and time moves on by `ms`. A sleep on
 * `clock` is waiting: time moves on, the loop idles. Timers that fall due while the loop computes
 * fire after it, late, as they would behind real computing. Reports then read the same on a
 * loaded machine as on a quiet one.
 */
export class FakeMeter implements ProcessMeter {
  readonly #timers = new FakeClock();
  /** Where computing has taken time: ahead of the timers' clock until `settle()` catches it up. */
  #workedTo = 0;
  #workedMs = 0;

  /** The clock for the run and the test's sleeps: the meter's time, timers counted from it. */
  readonly clock: Clock = {
    now: () => this.now(),
    setTimeout: (callback, ms) => this.#timers.setTimeout(callback, ms + this.now() - this.#timers.now()),
    clearTimeout: (handle) => this.#timers.clearTimeout(handle),
  };

  now(): number {
    return Math.max(this.#workedTo, this.#timers.now());
  }

  loopActiveMs(): number {
    return this.#workedMs;
  }

  /** Computes for `ms` on the event loop. */
  work(ms: number): void {
    this.#workedTo = this.now() + ms;
    this.#workedMs += ms;
  }

  /** Moves time on, to where computing took it or else by 1 ms, until `running` settles. */
  async settle<T>(running: Promise<T>): Promise<T> {
    let settled = false;
    const watched = running.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined); // a rejection is the caller's, when it awaits the result
    // Ten minutes of fake time is a hang, not a slow run.
    while (!settled && this.now() < 600_000) {
      await this.#timers.advance(Math.max(1, this.now() - this.#timers.now()));
    }
    return watched;
  }
}

/** Runs `body` with a FakeMeter measuring every run it starts, then puts the real meter back. */
export async function withFakeMeter<T>(body: (fake: FakeMeter) => Promise<T>): Promise<T> {
  const fake = new FakeMeter();
  meter.current = fake;
  try {
    return await body(fake);
  } finally {
    meter.current = realMeter;
  }
}
