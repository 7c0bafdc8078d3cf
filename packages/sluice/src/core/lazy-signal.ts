/**
 * An abort signal made the first time something reads it. Node's AbortSignal is expensive to
 * make (about 4 us on Node 20, and as much again to collect: it is built as an EventTarget whose
 * prototype is then swapped, which leaves it a slow object), more than a fast call's bookkeeping
 * and more than a ten-item run's. Most calls never read their signal, and most runs end without
 * anything having read theirs. Read after the abort, the signal comes already aborted, with the
 * same reason. What must only react to the abort (a stage's deadlines, which reject their pending
 * calls when the run stops) watches it with `watchAbort` without making it.
 */
import { setMaxListeners } from 'node:events';

export class LazySignal {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  readonly #shared: boolean;
  /** Callbacks for the abort, called once; see `watch`. */
  #watchers: Set<() => void> | undefined;

  /**
   * @param shared the signal is handed to many listeners at once (a run's, which every call in
   *   flight may pass to fetch): Node's leak warning at 11 listeners would be a false alarm.
   */
  constructor(shared = false) {
    this.#shared = shared;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#shared) setMaxListeners(0, this.#controller.signal);
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /**
   * Calls `callback` once when this aborts, without making the signal; the returned function stops
   * the watch. Already aborted, nothing is called: the caller checks `aborted` first.
   */
  watch(callback: () => void): () => void {
    const watchers = (this.#watchers ??= new Set());
    watchers.add(callback);
    return () => {
      watchers.delete(callback);
    };
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const watchers = this.#watchers;
    this.#watchers = undefined;
    if (watchers !== undefined) for (const callback of watchers) callback();
  }
}
