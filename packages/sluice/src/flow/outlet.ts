/**
 * Where a stage writes its outputs: the bounded channel the next stage (or an async reader) takes
 * them from, or, when the terminal consumes every output synchronously (`collect`, `reduce`), the
 * terminal's function itself, called in the stage's own turn. Handing each output straight over
 * skips a buffer and the hand-offs between the stage and the terminal: with the channel, the
 * terminal woke once per buffer's worth, and each wake-up cost several promises.
 */
export interface Outlet<T> {
  /** Takes `value` now, or returns false when there is no room (a channel that is full). */
  tryPush(value: T): boolean;
  /** Takes `values[from]` up to `values[to - 1]` while there is room; returns the first index not taken. */
  tryPushMany(values: readonly T[], from?: number, to?: number): number;
  /** Resolves when there is room again. */
  writable(): Promise<void>;
  /** No more outputs. */
  close(): void;
  /** Outputs held, not yet taken by the reader. */
  readonly size: number;
}

/**
 * Hands `value` to `output`, waiting for room when there is none, and calls `taken` in the very
 * turn the output takes it: undefined when it had room at once, else a promise of true once it
 * took the value, or of false when the run stopped first (the value is cancelled). Counting in that turn is the
 * point: a value parked in a channel's queue of waiting pushes, counted when its push resolved, was
 * taken by the reader a turn before, and a run stopped in between reported an output its reader
 * had as never emitted.
 */
export function handOn<T>(
  output: Outlet<T>,
  value: T,
  run: { readonly stopped: boolean },
  taken: () => void,
): Promise<boolean> | undefined {
  if (output.tryPush(value)) {
    taken();
    return undefined;
  }
  return handOnWhenWritable(output, value, run, taken);
}

async function handOnWhenWritable<T>(
  output: Outlet<T>,
  value: T,
  run: { readonly stopped: boolean },
  taken: () => void,
): Promise<boolean> {
  do {
    await output.writable();
    // The run can fail between the wake-up and this turn (the item the consumer just took may be
    // the one that failed it): a failed output throws on push.
    if (run.stopped) return false;
  } while (!output.tryPush(value));
  taken();
  return true;
}

/**
 * The last stage's outlet when the terminal takes each output as it comes. It always has room. A
 * `consume` that throws ends the consuming: the error goes to `onThrow` (which fails the run) and
 * later outputs, which the run stopped before it could take, are dropped.
 */
export class ConsumingOutlet<T> implements Outlet<T> {
  readonly #consume: (value: T) => void;
  readonly #onThrow: (error: unknown) => void;
  #failed = false;
  readonly size = 0;

  constructor(consume: (value: T) => void, onThrow: (error: unknown) => void) {
    this.#consume = consume;
    this.#onThrow = onThrow;
  }

  tryPush(value: T): boolean {
    if (this.#failed) return true;
    try {
      this.#consume(value);
    } catch (error) {
      this.#failed = true;
      this.#onThrow(error);
    }
    return true;
  }

  tryPushMany(values: readonly T[], from = 0, to = values.length): number {
    for (let i = from; i < to; i++) this.tryPush(values[i] as T);
    return to;
  }

  writable(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {}
}
