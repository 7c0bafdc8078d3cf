/**
 * A signal for the runs a caller cannot reach. `sluice run` hands a module `{ signal }`, but a
 * module that returns `flow(...).forEach(...)` has already started its run (a Sink starts itself),
 * and an async function returning a Sink awaits it: neither run ever sees that signal. Runs started
 * inside `withRunSignal` without a signal of their own take the scope's instead.
 *
 * The scope lives on globalThis under a registered symbol, so a flow built by another copy of
 * sluice in the process (the user's module, say) sees it too.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { checkFunction, checkSignal } from '../core/validate.js';

const scopes = Symbol.for('sluice.run-signal');
const registry = globalThis as { [scopes]?: AsyncLocalStorage<AbortSignal> };
const scope: AsyncLocalStorage<AbortSignal> = (registry[scopes] ??= new AsyncLocalStorage<AbortSignal>());

/**
 * Calls `fn`; every run started inside it (its promises, timers and callbacks included) without a
 * `signal` of its own stops when `signal` aborts.
 * @example
 * const controller = new AbortController();
 * process.once('SIGINT', () => controller.abort());
 * await withRunSignal(controller.signal, () => import('./job.js'));
 */
export function withRunSignal<R>(signal: AbortSignal, fn: () => R): R {
  checkSignal('signal', signal);
  checkFunction('fn', fn);
  return scope.run(signal, fn);
}

/** The signal of the innermost `withRunSignal` around the caller, if any. */
export function scopedRunSignal(): AbortSignal | undefined {
  return scope.getStore();
}
