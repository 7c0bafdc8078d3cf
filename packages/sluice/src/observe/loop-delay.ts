/**
 * How late the event loop answers: one timer for the whole process, due every RESOLUTION_MS while
 * any run watches, records how late it fired into every watcher's histogram.
 *
 * Why not `monitorEventLoopDelay()`: each one allocates a native histogram and a timer of its own,
 * which made starting a run cost about half a millisecond more; and a process that runs many flows
 * at once (a flow per request) would wake once per flow instead of once.
 */
import { Histogram } from './histogram.js';

/** The timer's period: fine enough to see a 20 ms stall, coarse enough to cost nothing. */
export const RESOLUTION_MS = 10;

const watchers = new Set<Histogram>();
let timer: NodeJS.Timeout | undefined;
let dueAt = 0;
/** Ticks since the process started: lets a test see that the timer really stopped. */
let ticks = 0;

export function loopDelayTicks(): number {
  return ticks;
}

function schedule(): void {
  dueAt = performance.now() + RESOLUTION_MS;
  timer = setTimeout(tick, RESOLUTION_MS);
  // Watching must never keep a process alive.
  timer.unref();
}

function tick(): void {
  ticks++;
  const late = performance.now() - dueAt;
  for (const histogram of watchers) histogram.record(late);
  schedule();
}

/** Records the loop's delay into a new histogram until the returned function is called. */
export function watchLoopDelay(): { histogram: Histogram; stop: () => void } {
  const histogram = new Histogram();
  watchers.add(histogram);
  if (timer === undefined) schedule();
  return {
    histogram,
    stop: () => {
      watchers.delete(histogram);
      if (watchers.size === 0 && timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
    },
  };
}
