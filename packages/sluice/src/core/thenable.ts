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
