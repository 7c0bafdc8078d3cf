import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep } from '../../src/core/clock.js';
import { flow } from '../../src/index.js';
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
