import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { LazySignal } from '../../src/core/lazy-signal.js';
import { countAbortControllers } from '../helpers/abort-controllers.js';

test('LazySignal - made on first read, the same one after; read after the abort, it comes aborted with the reason', () => {
  const early = new LazySignal();
  const signal = early.signal;
  assert.equal(early.signal, signal);
  assert.equal(signal.aborted, false);
  early.abort('first');
  early.abort('second');
  assert.equal(signal.aborted, true);
  assert.equal(signal.reason, 'first');

  const late = new LazySignal();
  late.abort('gone');
  assert.equal(late.signal.aborted, true);
  assert.equal(late.signal.reason, 'gone');
});

test("LazySignal - a shared one takes any number of listeners without a leak warning; a call's keeps the default", async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning.name);
  };
  process.on('warning', onWarning);
  try {
    const shared = new LazySignal(true);
    const own = new LazySignal();
    for (let i = 0; i < 20; i++) {
      shared.signal.addEventListener('abort', () => undefined);
      own.signal.addEventListener('abort', () => undefined);
    }
    assert.equal(getEventListeners(shared.signal, 'abort').length, 20);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings, ['MaxListenersExceededWarning'], 'only the unshared signal warned');
    shared.abort('stop');
    assert.equal(shared.signal.aborted, true);
  } finally {
    process.off('warning', onWarning);
  }
});

test('LazySignal - watch() is called once at the abort without making the signal; a stopped watch is not', () => {
  const controllers = countAbortControllers();
  try {
    const lazy = new LazySignal();
    const seen: string[] = [];
    lazy.watch(() => seen.push('a'));
    const stop = lazy.watch(() => seen.push('b'));
    stop();
    assert.equal(lazy.aborted, false);
    lazy.abort('gone');
    lazy.abort('again');
    assert.deepEqual(seen, ['a']);
    assert.equal(lazy.aborted, true);
    assert.equal(lazy.reason, 'gone');
    assert.equal(controllers.made, 0, 'no AbortController was made');
    assert.equal(lazy.signal.reason, 'gone');
    assert.equal(controllers.made, 1);
  } finally {
    controllers.restore();
  }
});
