import type { Clock, TimerHandle } from './clock.js';
import { nextMacrotask } from './thenable.js';

interface FakeTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told to. Timers fire in time order, and `advance` lets promise
 * continuations run between them, so code that awaits a timer and then sets another behaves as it
 * would on real time.
 *
 * @example
 * const clock = new FakeClock();
 * const done = sleep(clock, 1_000);
 * await clock.advance(1_000); // `done` has resolved
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  /** Pending timers, kept sorted by due time and then by creation order. */
  #timers: FakeTimer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), callback };
    let i = this.#timers.length;
    while (i > 0 && (this.#timers[i - 1] as FakeTimer).at > timer.at) i--;
    this.#timers.splice(i, 0, timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    const i = this.#timers.findIndex((t) => t.id === handle);
    if (i !== -1) this.#timers.splice(i, 1);
  }

  /** How many timers are waiting to fire. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.at > target) break;
      this.#timers.shift();
      this.#now = next.at;
      next.callback();
      await flushMicrotasks();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  /** Fires timers until none is left (or `limit` have fired, to stop a self-renewing timer). */
  async runAll(limit = 10_000): Promise<void> {
    for (let fired = 0; fired < limit; fired++) {
      await flushMicrotasks();
      const next = this.#timers.shift();
      if (next === undefined) return;
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    await flushMicrotasks();
  }
}

/**
 * Lets every queued promise continuation run (a macrotask runs only after the microtask queue
 * drains), and then what they put off to the next macrotask: a stage learns of an async source's
 * items one macrotask after the first arrives (see `source.ts`).
 */
export async function flushMicrotasks(): Promise<void> {
  await nextMacrotask(undefined);
  await nextMacrotask(undefined);
}
