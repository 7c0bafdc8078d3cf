/**
 * objective 'throughput' against a slow service that holds thousands, side by side with fixed
 * levels on the fake clock (a file of its own: its eight thousand callers are many promise chains).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Behaviour, seeded, sideBySide } from '../helpers/simulated-service.js';

/**
 * A service answering in 200 ms that holds thousands at once, on cores it shares: latency grows
 * with the square of what is in flight, so 1,600 to 3,200 in flight still buys 30% more calls a
 * second, and 6,400 buys less than 3,200.
 */
const highCapacity = (): Behaviour => {
  const random = seeded(7);
  return (inflight) => ({ ms: 195 + 10 * random() + 40 * (inflight / 1_600) ** 2 });
};

// From 16, a service answering in 200 ms is reached at best by doubling per round trip: a
// 20,000-call job at the best fixed level lasts about ten round trips, and the climb to 3,200
// takes eight (see bench/RESULTS.md).
test('a slow service that holds thousands: a 20,000-call job from a cold start', async () => {
  const { best, ratio, adaptive } = await sideBySide(highCapacity, [1_600, 3_200, 6_400], 20_000);
  assert.equal(best, 3_200);
  assert.ok(
    ratio >= 0.55,
    `adaptive at ${(100 * ratio).toFixed(1)}% of fixed ${best}, limit ${adaptive.limit()}`,
  );
  // The limit went past 1,600, where a latency rule stops.
  assert.ok(adaptive.limiter.report().perKey.peak >= 3_200, `peak ${adaptive.limiter.report().perKey.peak}`);
});
