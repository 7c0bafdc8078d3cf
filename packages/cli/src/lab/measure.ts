/**
 * Timing a set of approaches to the same work, one after the other, and checking that they agree.
 * The first approach is the baseline that speed-ups are measured against (serial, in the lab).
 */
import { LabMismatchError } from '../exit.js';
import type { LabSession } from './session.js';

export interface Approach<R> {
  /** Stable id, for --json: `serial`, `async`, `threads`, ... */
  approach: string;
  /** What the table and the chart show: `async (map, concurrency 32)`. */
  label: string;
  /** Untimed: open pools, connections, warm up. */
  prepare?(): Promise<void>;
  /** Timed: the work itself. */
  run(): Promise<R>;
  /** Untimed: close what prepare opened. */
  finish?(): Promise<void>;
  /** After the run: what the table should say beside its time (a stage that blocked the loop, say). */
  note?(): string | undefined;
}

export interface Measured<R> {
  approach: string;
  label: string;
  seconds: number;
  /** Baseline seconds over these seconds. */
  speedup: number;
  /** What the run showed beside its time, in the table's words. */
  note?: string;
  result: R;
}

/**
 * Runs each approach in turn (never two at once: they would compete for the same cores) and
 * throws SLUICE_ERR_LAB_MISMATCH when one's result differs from the baseline's.
 */
export async function measure<R>(
  session: LabSession,
  approaches: readonly Approach<R>[],
  same: (a: R, b: R) => boolean,
  describe: (result: R) => string = String,
): Promise<Measured<R>[]> {
  const measured: Measured<R>[] = [];
  for (const approach of approaches) {
    session.check();
    await approach.prepare?.();
    const started = performance.now();
    const result = await approach.run();
    const seconds = (performance.now() - started) / 1000;
    await approach.finish?.();
    const baseline = measured[0];
    if (baseline !== undefined && !same(baseline.result, result)) {
      throw new LabMismatchError(
        `${approach.label} gave ${describe(result)} where ${baseline.label} gave ${describe(baseline.result)}`,
      );
    }
    const note = approach.note?.();
    measured.push({
      approach: approach.approach,
      label: approach.label,
      seconds,
      speedup: (baseline?.seconds ?? seconds) / seconds,
      ...(note === undefined ? {} : { note }),
      result,
    });
  }
  return measured;
}

/** Element-wise equality of two arrays of numbers. */
export function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** `n results, checksum c`: enough to tell two arrays of numbers apart in an error message. */
export function describeNumbers(values: readonly number[]): string {
  return `${values.length} results adding up to ${values.reduce((s, v) => s + v, 0)}`;
}
