/**
 * Groups items into arrays of `size`. With `maxWaitMs`, a partial batch goes out once its first
 * item has waited that long, so a slow trickle of input still reaches the database promptly.
 */
import type { Inlet } from './inlet.js';
import { handOn, type Outlet } from './outlet.js';
import type { StageStats } from './report.js';
import type { RunControl } from './run-control.js';
import type { BatchSpec } from './stage-spec.js';

export class BatchStage {
  readonly #spec: BatchSpec;
  readonly #input: Inlet<unknown>;
  readonly #output: Outlet<unknown[]>;
  readonly #stats: StageStats;
  readonly #run: RunControl;

  constructor(
    spec: BatchSpec,
    input: Inlet<unknown>,
    output: Outlet<unknown[]>,
    stats: StageStats,
    run: RunControl,
  ) {
    this.#spec = spec;
    this.#input = input;
    this.#output = output;
    this.#stats = stats;
    this.#run = run;
  }

  async start(): Promise<void> {
    const { size, maxWaitMs } = this.#spec;
    const input = this.#input;
    const clock = this.#run.clock;
    let batch: unknown[] = [];
    let deadline = 0;
    while (!this.#run.stopped) {
      // As many as the batch still has room for, in one call.
      const items = input.tryPullMany(size - batch.length);
      if (items.length === 0) {
        if (input.done) break;
        if (batch.length === 0 || maxWaitMs === undefined) {
          if (!(await input.readable())) break;
          continue;
        }
        const remaining = deadline - clock.now();
        if (remaining <= 0 || !(await this.#readableWithin(remaining))) {
          if (input.done) break;
          batch = await this.#flush(batch);
        }
        continue;
      }
      this.#stats.entered += items.length;
      if (batch.length === 0) {
        batch = items;
        deadline = clock.now() + (maxWaitMs ?? 0);
      } else for (const item of items) batch.push(item);
      if (batch.length >= size || (maxWaitMs !== undefined && clock.now() >= deadline)) {
        batch = await this.#flush(batch);
      }
    }
    if (this.#run.stopped) return;
    if (batch.length > 0) await this.#flush(batch);
    this.#output.close();
  }

  async #flush(batch: unknown[]): Promise<unknown[]> {
    if (batch.length === 0) return batch;
    // A stopped run cancels the batch: its items stay unsettled, and the stage stops.
    await handOn(this.#output, batch, this.#run, () => {
      this.#stats.emitted += batch.length;
      this.#stats.outputs++;
    });
    return [];
  }

  /** True when input arrives (or ends) within `ms`; false when the time runs out first. */
  async #readableWithin(ms: number): Promise<boolean> {
    const clock = this.#run.clock;
    let timer: unknown;
    const timeout = new Promise<false>((resolve) => {
      timer = clock.setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([this.#input.readable().then(() => true), timeout]);
    } finally {
      clock.clearTimeout(timer);
    }
  }
}
