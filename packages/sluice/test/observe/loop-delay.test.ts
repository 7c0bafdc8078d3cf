import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loopDelayTicks, RESOLUTION_MS, watchLoopDelay } from '../../src/observe/loop-delay.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('one timer serves every watcher, sees a blocked loop, and stops with the last watcher', async () => {
  const a = watchLoopDelay();
  const b = watchLoopDelay();
  await sleep(3 * RESOLUTION_MS);
  const blockedUntil = performance.now() + 40;
  while (performance.now() < blockedUntil) {
    // Hold the loop, as a synchronous map stage would.
  }
  await sleep(2 * RESOLUTION_MS);
  // Both watchers saw the same ticks, including the one that came 40 ms late.
  assert.equal(a.histogram.count, b.histogram.count);
  assert.ok(a.histogram.max >= 30, `largest delay seen ${a.histogram.max} ms`);
  a.stop();
  const countB = b.histogram.count;
  await sleep(3 * RESOLUTION_MS);
  assert.ok(b.histogram.count > countB, 'the timer stopped while a watcher was left');
  b.stop();
  const ticks = loopDelayTicks();
  await sleep(4 * RESOLUTION_MS);
  assert.equal(loopDelayTicks(), ticks, 'the timer kept running with no watcher');
});
