import { EMPTY } from '../core/channel.js';

/**
 * What a stage reads from: the channel its upstream writes into, or, for the first stage over a
 * synchronous source, the source itself. Pulling is synchronous; a reader waits with `readable()`
 * only when `tryPull` came back `EMPTY` and `done` is still false.
 */
export interface Inlet<T> {
  tryPull(): T | typeof EMPTY;
  /** Up to `max` items ready now, in order; [] when none is. One call instead of one per item. */
  tryPullMany(max: number): T[];
  readable(): Promise<boolean>;
  readonly done: boolean;
  /** Items ready to pull now (a lower bound). */
  readonly size: number;
}

export { EMPTY };
