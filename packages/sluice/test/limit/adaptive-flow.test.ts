import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep } from '../../src/core/clock.js';
import { type AdaptiveConcurrency, flow } from '../../src/index.js';
import { FakeClock } from '../../src/testing.js';
import { seeded, tooMany } from '../helpers/simulated-service.js';

/** The service answers 429, at once, to any call above this many in flight; it does not say so. */
const HIDDEN_LIMIT = 40;

/**
 * A service on the run's fake clock: 15 to 25 ms a call, a 429 after 1 ms above the hidden limit.
 * On fake time the limit sees the service's own latency, whatever the machine's load: with a real
 * server in the test's process, a starved process could not push 40 requests into the server at
 * once, the service never refused, and the limit climbed past the hidden one unopposed.
 */
function hiddenLimitService(clock: FakeClock) {
  const random = seeded();
  const service = { inFlight: 0, rejected: 0, served: 0 };
  const get = async (id: number): Promise<string> => {
    if (service.inFlight >= HIDDEN_LIMIT) {
      service.rejected++;
      await sleep(clock, 1);
      throw tooMany();
    }
    service.inFlight++;
    await sleep(clock, 15 + 10 * random());
    service.inFlight--;
    service.served++;
    return `ok ${id}`;
  };
  return { service, get };
}

/** A source of `n` numbers that counts how many the flow has taken from it. */
function countingSource(n: number): { items: Generator<number>; readonly taken: number } {
  let taken = 0;
  function* items(): Generator<number> {
    for (let i = 0; i < n; i++) {
      taken++;
      yield i;
    }
  }
  return {
    items: items(),
    get taken() {
      return taken;
    },
  };
}

test("concurrency: 'adaptive' completes every item against a server that rejects above a hidden limit, and settles below it", async () => {
  const clock = new FakeClock();
  const { service, get } = hiddenLimitService(clock);
  const items = Array.from({ length: 3_000 }, (_, i) => i);
  let settled = false;
  const running = flow(items)
    .map(get, { concurrency: 'adaptive', retry: { attempts: 100, baseDelayMs: 5, maxDelayMs: 50 } })
    .run({ clock })
    .finally(() => {
      settled = true;
    });
  // 3,000 calls of 20 ms at 40 at once take 1.5 s; a minute of fake time is a hang, not a slow run.
  while (!settled && clock.now() < 60_000) await clock.advance(5);
  const report = await running;
  const stage = report.stages[0];
  assert.equal(stage?.emitted, 3_000);
  assert.equal(service.served, 3_000);
  assert.equal(stage?.retries, service.rejected);
  assert.ok(service.rejected > 0, 'the limit probed past the hidden one at least once');
  assert.ok((stage?.limit?.total.final ?? 0) <= HIDDEN_LIMIT, `final limit ${stage?.limit?.total.final}`);
  assert.ok((stage?.limit?.total.drops ?? 0) > 0);
  // Rejections cost the job little: the limit learns the hidden one and stays under it.
  assert.ok(service.rejected < 0.05 * 3_000, `${service.rejected} rejected`);
});

/**
 * An adaptive map stage over 100,000 numbers whose calls each take `ms` on the fake clock, run
 * until the test stops it: the most calls it had in flight, and the items it took from its input.
 */
function slowCallsStage(clock: FakeClock, ms: number, concurrency: 'adaptive' | AdaptiveConcurrency) {
  const source = countingSource(100_000);
  const seen = { peak: 0, inFlight: 0, taken: () => source.taken };
  const stop = new AbortController();
  const running = flow(source.items)
    .map(
      async (i: number) => {
        seen.peak = Math.max(seen.peak, ++seen.inFlight);
        await sleep(clock, ms);
        seen.inFlight--;
        return i;
      },
      { concurrency },
    )
    .run({ clock, signal: stop.signal });
  const stopped = async () => {
    stop.abort();
    await assert.rejects(running, { code: 'SLUICE_ERR_ABORTED' });
  };
  return { seen, stopped };
}

test('an adaptive stage takes from its input only the items its limit lets it run, not one per unit of its max', async () => {
  const clock = new FakeClock();
  const { seen, stopped } = slowCallsStage(clock, 100, 'adaptive');
  await clock.advance(0);
  // The limit starts at 16: sixteen calls, and nothing more taken from the input to wait with
  // (the stage's max, 10,000, once meant 10,000 items parked at the limiter).
  assert.equal(seen.peak, 16);
  assert.ok(seen.taken() <= 16 + 1, `${seen.taken()} items taken while 16 could run`);
  await stopped();
});

test("an adaptive stage for throughput has its first round trip's calls going as its limit grows before the first answer, and holds no more", async () => {
  const clock = new FakeClock();
  const { seen, stopped } = slowCallsStage(clock, 200, { adaptive: true, objective: 'throughput' });
  await clock.advance(0);
  assert.equal(seen.peak, 100);
  for (let t = 0; t < 195; t += 5) await clock.advance(5);
  // The limit doubles every 50 ms until the first answer: the lanes are there to use it.
  assert.ok(seen.peak >= 1_450, `${seen.peak} in flight before the first answer`);
  // Up to sixteen times the start wait at the limiter for it to grow, and no more.
  assert.ok(seen.taken() <= 1_600 + 1, `${seen.taken()} items taken`);
  await stopped();
  // The calls out end in their time; the timer that grew the limit is gone with the run.
  await clock.advance(200);
  assert.equal(clock.pending, 0);
});

test('items waiting out a retry backoff in an adaptive stage do not hold back the items behind them', async () => {
  const clock = new FakeClock();
  let inFlight = 0;
  let peak = 0;
  let succeeded = 0;
  const failedOnce = new Set<number>();
  const items = Array.from({ length: 400 }, (_, i) => i);
  const running = flow(items)
    .map(
      async (i: number) => {
        peak = Math.max(peak, ++inFlight);
        await sleep(clock, 10);
        inFlight--;
        // The first 16 items fail once (not an overload: the limit does not cut), then back off 1 s.
        if (i < 16 && !failedOnce.has(i)) {
          failedOnce.add(i);
          throw new Error(`flaky ${i}`);
        }
        succeeded++;
        return i;
      },
      {
        concurrency: { adaptive: true, initial: 16, max: 1_000 },
        retry: { attempts: 2, baseDelayMs: 1_000, maxDelayMs: 1_000, jitter: false },
      },
    )
    .run({ clock });
  await clock.advance(500);
  // All 16 of the first calls failed and wait out their backoff until 1,010 ms; lanes taking their
  // place kept the other items moving (without them, none would have run for a second).
  assert.ok(succeeded >= 16 * 20, `${succeeded} items done in the first 500 ms`);
  assert.ok(peak >= 16, `at most ${peak} calls at once`);
  await clock.advance(2_000);
  const report = await running;
  assert.equal(report.stages[0]?.emitted, 400);
  assert.equal(report.stages[0]?.retries, 16);
});

test("an adaptive forEach at the end of a flow holds only the items its limit lets it run, and a buffer's worth", async () => {
  const clock = new FakeClock();
  const source = countingSource(100_000);
  let started = 0;
  const stop = new AbortController();
  const running = flow(source.items)
    .map((i) => i * 2)
    .forEach(
      async () => {
        started++;
        await sleep(clock, 100);
      },
      { concurrency: 'adaptive', buffer: 32 },
    )
    .run({ clock, signal: stop.signal });
  await clock.advance(0);
  assert.equal(started, 16);
  // Sixteen calls, the forEach's buffer, and the item in hand: not one per unit of the max (10,000).
  assert.ok(source.taken <= 16 + 32 + 1, `${source.taken} items taken while 16 could run`);
  stop.abort();
  await assert.rejects(running, { code: 'SLUICE_ERR_ABORTED' });
});

test('an adaptive stage whose limit falls lets go of the lanes past it: it holds no more items than the new limit runs', async () => {
  const clock = new FakeClock();
  const { service, get } = hiddenLimitService(clock);
  const source = countingSource(1_000_000);
  let settled = 0;
  const stop = new AbortController();
  const running = flow(source.items)
    .map(
      async (i: number) => {
        try {
          return await get(i);
        } finally {
          settled++;
        }
      },
      // Starts at 200, five times what the service holds: the limit must come down.
      { concurrency: { adaptive: true, initial: 200, max: 1_000 }, onError: 'skip' },
    )
    .run({ clock, signal: stop.signal });
  await clock.advance(0);
  assert.ok(source.taken - settled >= 200, `${source.taken - settled} held at the start`);
  for (let t = 0; t < 3_000; t += 5) await clock.advance(5);
  assert.ok(service.rejected > 0);
  // The lanes past the limit ended as they came round; the items in hand are the limit's calls.
  assert.ok(
    source.taken - settled <= HIDDEN_LIMIT + 10,
    `${source.taken - settled} items held by a limit under ${HIDDEN_LIMIT + 10}`,
  );
  stop.abort();
  await assert.rejects(running, { code: 'SLUICE_ERR_ABORTED' });
});
