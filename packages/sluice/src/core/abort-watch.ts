/**
 * Runs callbacks when a signal aborts, with one listener on the signal however many callbacks
 * watch it: watching is a Set insert, unwatching a Set delete. A cpu() stage sends every batch
 * under its run's one signal; with tasks of a few milliseconds that was an EventTarget listener
 * added and removed per item, which a profile of that stage showed as the biggest single part of
 * the main thread's per-item work (its validation and iteration, not the callback). Interleaved
 * runs of 400 such tasks used 3 to 56 ms less CPU in all with this watch; a microbenchmark of the
 * bare pair shows both under a microsecond, so the gain is small and comes from the real context.
 */

import { LazySignal } from './lazy-signal.js';

const watchers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `callback` once if `signal` aborts; the returned function stops the watch. A signal
 * that is already aborted is the caller's to check: its callbacks never run. A `LazySignal` is
 * watched without being made.
 */
export function watchAbort(signal: AbortSignal | LazySignal, callback: () => void): () => void {
  if (signal instanceof LazySignal) return signal.watch(callback);
  let callbacks = watchers.get(signal);
  if (callbacks === undefined) {
    const created = new Set<() => void>();
    callbacks = created;
    watchers.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        watchers.delete(signal);
        for (const run of [...created]) run();
        created.clear();
      },
      { once: true },
    );
  }
  const own = callbacks;
  own.add(callback);
  return () => {
    own.delete(callback);
  };
}
