/**
 * objective 'throughput' (the default) against each shape of service, side by side with fixed
 * levels, all on the fake clock: a fixed level is a limit whose min, max and initial are that level.
 * What counts is what a batch job sees: the time to finish a given number of calls.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AdaptiveOptions } from '../../src/limit/adaptive-options.js';
import { type Behaviour, SimulatedService, seeded, tooMany } from '../helpers/simulated-service.js';

/** Callers enough for any level tried here, so the limit, not the callers, sets what is in flight. */
const DEMAND = 8_000;

/** Fake milliseconds to finish `calls` successful calls, and the calls rejected on the way. */
async function job(
  options: AdaptiveOptions<string>,
  behaviour: Behaviour,
  calls: number,
): Promise<{ ms: number; rejected: number; service: SimulatedService }> {
  const service = new SimulatedService(options, behaviour).start(DEMAND);
  while (service.ok < calls) await service.run(10);
  service.stop();
  return { ms: service.clock.now(), rejected: service.rejected, service };
}

const fixed = (level: number): AdaptiveOptions<string> => ({ min: level, max: level, initial: level });

/** The best fixed level's time over `levels`, and the adaptive limit's time as a share of its speed. */
async function sideBySide(
  shape: () => Behaviour,
  levels: number[],
  calls: number,
): Promise<{ best: number; bestMs: number; ratio: number; adaptive: SimulatedService }> {
  let best = 0;
  let bestMs = Number.POSITIVE_INFINITY;
  for (const level of levels) {
    const { ms } = await job(fixed(level), shape(), calls);
    if (ms < bestMs) [best, bestMs] = [level, ms];
  }
  const adaptive = await job({ max: DEMAND }, shape(), calls);
  return { best, bestMs, ratio: bestMs / adaptive.ms, adaptive: adaptive.service };
}

/**
 * A service answering in 200 ms that holds thousands at once, on cores it shares: latency grows
 * with the square of what is in flight, so 1,600 to 3,200 in flight still buys 30% more calls a
 * second, and 6,400 buys less than 3,200.
 */
const highCapacity = (): Behaviour => {
  const random = seeded(7);
  return (inflight) => ({ ms: 195 + 10 * random() + 40 * (inflight / 1_600) ** 2 });
};

/** Calls cost the service CPU: past about 60 in flight it serves 2,500 a second and no more. */
const cpuBound = (): Behaviour => {
  const random = seeded(11);
  return (inflight) => ({ ms: 18 + 4 * random() + inflight / 2.5 });
};

/** Throughput peaks at 50 in flight and falls past it (latency grows as the load to the 1.4). */
const peaked = (): Behaviour => {
  const random = seeded(13);
  return (inflight) => ({ ms: (18 + 4 * random()) * Math.max(1, (inflight / 50) ** 1.4) });
};

// From 16, a service answering in 200 ms is reached at best by doubling per round trip, four
// times over per window here: a 20,000-call job at the best fixed level lasts about ten round
// trips, so the climb alone costs a quarter of it (see bench/RESULTS.md).
test('a slow service that holds thousands: a 20,000-call job from a cold start', async () => {
  const { best, ratio, adaptive } = await sideBySide(highCapacity, [1_600, 3_200, 6_400], 20_000);
  assert.equal(best, 3_200);
  assert.ok(
    ratio >= 0.65,
    `adaptive at ${(100 * ratio).toFixed(1)}% of fixed ${best}, limit ${adaptive.limit()}`,
  );
});

test('a service whose calls cost CPU: within 90% of the best fixed level', async () => {
  const { best, ratio, adaptive } = await sideBySide(cpuBound, [25, 50, 100, 200, 400], 20_000);
  assert.ok(
    ratio >= 0.9,
    `adaptive at ${(100 * ratio).toFixed(1)}% of fixed ${best}, limit ${adaptive.limit()}`,
  );
});

test('a service whose throughput falls past its peak: the limit comes back near the peak', async () => {
  const { best, ratio, adaptive } = await sideBySide(peaked, [25, 50, 100, 200], 20_000);
  assert.equal(best, 50);
  assert.ok(
    ratio >= 0.7,
    `adaptive at ${(100 * ratio).toFixed(1)}% of fixed ${best}, limit ${adaptive.limit()}`,
  );
  assert.ok(adaptive.limit() <= 150, `limit ${adaptive.limit()}`);
});

test('a 50 ms service that answers 429 with Retry-After: 1 above 300 in flight: few rejects, most of its throughput', async () => {
  const random = seeded(17);
  const rejecting: Behaviour = (inflight) =>
    inflight > 300 ? { ms: 1, error: tooMany('1') } : { ms: 45 + 10 * random() };
  const calls = 20_000;
  const atHidden = await job(fixed(300), rejecting, calls);
  const service = new SimulatedService({ max: DEMAND }, rejecting).start(DEMAND);
  let settledAt = 0;
  let rejectedBefore = 0;
  while (service.ok < calls) {
    await service.run(10);
    if (settledAt === 0 && service.ok >= calls / 2)
      [settledAt, rejectedBefore] = [service.ok, service.rejected];
  }
  service.stop();
  const ratio = atHidden.ms / service.clock.now();
  const share = service.rejected / (service.ok + service.rejected);
  const settledShare =
    (service.rejected - rejectedBefore) / (service.ok - settledAt + service.rejected - rejectedBefore);
  assert.equal(atHidden.rejected, 0);
  assert.ok(ratio >= 0.75, `adaptive at ${(100 * ratio).toFixed(1)}% of fixed 300`);
  assert.ok(share < 0.02, `${service.rejected} of ${service.ok + service.rejected} rejected`);
  assert.ok(settledShare < 0.005, `${(100 * settledShare).toFixed(2)}% rejected in the second half`);
});
