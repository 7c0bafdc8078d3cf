import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { watchAbort } from '../../src/core/abort-watch.js';
import { sleep, systemClock } from '../../src/core/clock.js';
import { withDeadline } from '../../src/core/deadline.js';
import { WaiterQueue } from '../../src/core/waiter-queue.js';

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

test('thousands of waits under one signal (queued turns, backoff sleeps, call deadlines) add one listener to it, and an abort still ends each', async () => {
  const controller = new AbortController();
  const { signal } = controller;
  const queue = new WaiterQueue();
  const waits: Promise<unknown>[] = [];
  for (let i = 0; i < 1000; i++) {
    waits.push(queue.enqueue(signal));
    waits.push(sleep(systemClock, 60_000, signal));
    waits.push(withDeadline(() => new Promise(() => undefined), 60_000, systemClock, signal));
  }
  // A run's lanes all wait under the run's signal: a listener each made every new one cost a
  // walk over the others, which at thousands in flight was the client's busiest function.
  assert.equal(getEventListeners(signal, 'abort').length, 1);
  // Served and finished waits leave no watch behind.
  for (let i = 0; i < 500; i++) queue.serve();
  controller.abort(new Error('stop'));
  const settled = await Promise.allSettled(waits);
  assert.equal(settled.filter((s) => s.status === 'fulfilled').length, 500);
  assert.equal(settled.filter((s) => s.status === 'rejected').length, 2500);
  assert.equal(getEventListeners(signal, 'abort').length, 0);
});
