/**
 * Runs callbacks when a signal aborts, with one listener on the signal however many callbacks
 * watch it. Node's EventTarget costs tens of microseconds for each addEventListener and
 * removeEventListener pair, and a cpu() stage sends every batch under its run's one signal: with
 * tasks of a few milliseconds, that was a listener added and removed per item, and the main
 * thread's share of the CPU it took came out of the workers' time.
 */

const watchers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `callback` once if `signal` aborts; the returned function stops the watch. A signal
 * that is already aborted is the caller's to check: its callbacks never run.
 */
export function watchAbort(signal: AbortSignal, callback: () => void): () => void {
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
