/**
 * Where the observe layer reads the process: real time, and how long the event loop has spent
 * running code. Measurements are of the real process, not of the run's clock: a FakeClock drives
 * timing logic (ticks, progress), it does not make work take less CPU.
 *
 * The one indirection lets sluice's own tests put a meter on fake time in its place
 * (`test/helpers/fake-meter.ts`), so that a label or a warning they assert does not move with the
 * machine's load. Not public: a user's report is always measured on the real process. (When a
 * cpu() stage's workers were ready, `readyAtMs`, is still read from `performance.now()`: a fake
 * meter is for stages on the event loop.)
 */
export interface ProcessMeter {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Milliseconds the event loop has spent running code, from a fixed origin. */
  loopActiveMs(): number;
}

export const realMeter: ProcessMeter = {
  now: () => performance.now(),
  loopActiveMs: () => performance.eventLoopUtilization().active,
};

/** The meter every measurement reads; `realMeter` but in sluice's own tests. */
export const meter: { current: ProcessMeter } = { current: realMeter };
