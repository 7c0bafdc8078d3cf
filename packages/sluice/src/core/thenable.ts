/**
 * True for anything `await` would wait on: a promise, or any object or function with a `then`
 * method. Checked before awaiting so a synchronous result costs no microtask.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/**
 * Resolves with `value` a macrotask from now: after every queued promise continuation, and after
 * whatever those put in motion on microtasks alone.
 */
export function nextMacrotask<V>(value: V): Promise<V> {
  return new Promise((resolve) => setImmediate(resolve, value));
}
