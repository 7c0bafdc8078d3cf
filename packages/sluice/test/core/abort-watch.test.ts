import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { watchAbort } from '../../src/core/abort-watch.js';

test('many watches of one signal share one listener; each runs once on abort, unless stopped', () => {
  const controller = new AbortController();
  const calls: number[] = [];
  const stops = Array.from({ length: 100 }, (_, i) => watchAbort(controller.signal, () => calls.push(i)));
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  for (let i = 0; i < 100; i += 2) stops[i]?.();
  controller.abort();
  controller.abort();
  assert.deepEqual(
    calls,
    Array.from({ length: 50 }, (_, i) => 2 * i + 1),
  );
});

test('a callback that stops another watch during the abort does not break the rest', () => {
  const controller = new AbortController();
  const calls: string[] = [];
  let stopB = (): void => undefined;
  watchAbort(controller.signal, () => {
    calls.push('a');
    stopB();
  });
  stopB = watchAbort(controller.signal, () => calls.push('b'));
  watchAbort(controller.signal, () => calls.push('c'));
  controller.abort();
  // Every watch present when the signal aborted runs: stopping one from inside the abort is too late.
  assert.deepEqual(calls, ['a', 'b', 'c']);
});

test('watching again after an abort needs a new signal: the old one is not watched twice', () => {
  const controller = new AbortController();
  watchAbort(controller.signal, () => undefined);
  controller.abort();
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});
