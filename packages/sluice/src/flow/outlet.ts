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
  /** Takes `value`, waiting for room; rejects if the outlet fails first. */
  push(value: T): Promise<void>;
  /** Resolves when there is room again. */
  writable(): Promise<void>;
  /** No more outputs. */
  close(): void;
  /** Outputs held, not yet taken by the reader. */
  readonly size: number;
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

  push(value: T): Promise<void> {
    this.tryPush(value);
    return Promise.resolve();
  }

  writable(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {}
}
