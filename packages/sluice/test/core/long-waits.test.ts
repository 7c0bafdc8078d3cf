/**
 * Waits longer than one Node timer can hold (2^31-1 ms, about 24.8 days). Node fires such a timer
 * after 1 ms; these tests show a 30-day wait does not end early. They cannot wait 30 days, so
 * they check what a user would see first: the early firing, within a few milliseconds.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { MAX_TIMER_MS, systemClock } from '../../src/core/clock.js';
import { MAX_RETRY_AFTER_MS, parseRetryAfter, retryAfterMs } from '../../src/core/retry.js';
import { flow, RateLimiter } from '../../src/index.js';

const THIRTY_DAYS = 30 * 24 * 3600 * 1000;

/** Runs `body` and returns the warnings Node emitted meanwhile (TimeoutOverflowWarning, say). */
async function warningsDuring(body: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onWarning = (warning: Error): void => {
    seen.push(warning.name);
  };
  process.on('warning', onWarning);
  try {
    await body();
    // Warnings are emitted on a later tick.
    await delay(5);
  } finally {
    process.off('warning', onWarning);
  }
  return seen;
}

describe('waits longer than a Node timer holds', () => {
  test('systemClock.setTimeout() - a 30-day timer does not fire early, warns nothing, and clears', async () => {
    assert.ok(THIRTY_DAYS > MAX_TIMER_MS);
    let fired = false;
    const warnings = await warningsDuring(async () => {
      const handle = systemClock.setTimeout(() => {
        fired = true;
      }, THIRTY_DAYS);
      await delay(30);
      systemClock.clearTimeout(handle);
    });
    assert.equal(fired, false);
    assert.deepEqual(warnings, []);
  });

  test("systemClock.setTimeout() - a long timer can be unref'd like a Node timer", () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const handle = systemClock.setTimeout(() => undefined, THIRTY_DAYS) as { unref(): void };
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before + 1);
    handle.unref();
    systemClock.clearTimeout(handle);
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before);
  });

  test('a 30-day timeout lets a 20 ms call finish', async () => {
    const out = await flow([1, 2])
      .map(
        async (x) => {
          await delay(20);
          return x * 2;
        },
        { timeout: THIRTY_DAYS },
      )
      .collect();
    assert.deepEqual(out, [2, 4]);
  });

  test('a 30-day retry backoff waits: the second attempt has not come when the run is aborted', async () => {
    let calls = 0;
    const controller = new AbortController();
    const run = flow([1])
      .map(
        () => {
          calls++;
          throw new Error('down');
        },
        { retry: { attempts: 2, baseDelayMs: THIRTY_DAYS, jitter: false } },
      )
      .run({ signal: controller.signal });
    await delay(30);
    controller.abort();
    await assert.rejects(run, { code: 'SLUICE_ERR_ABORTED' });
    assert.equal(calls, 1);
  });

  test('a 30-day maxWaitMs holds a partial batch until the source ends', async () => {
    const controller = new AbortController();
    const batches: number[][] = [];
    async function* slow(): AsyncGenerator<number> {
      yield 1;
      await delay(30);
      yield 2;
    }
    await flow(slow())
      .batch({ size: 10, maxWaitMs: THIRTY_DAYS })
      .forEach((b) => {
        batches.push(b);
      })
      .run({ signal: controller.signal });
    assert.deepEqual(batches, [[1, 2]]);
  });

  test('a rate of one call per 30 days lets one call through, and no warning floods the process', async () => {
    for (const rateLimit of [{ limit: 1, intervalMs: THIRTY_DAYS }, { perSecond: 1e-9 }]) {
      let calls = 0;
      const controller = new AbortController();
      const warnings = await warningsDuring(async () => {
        const run = flow([1, 2, 3])
          .map(() => ++calls, { rateLimit })
          .run({ signal: controller.signal });
        await delay(30);
        controller.abort();
        await assert.rejects(run, { code: 'SLUICE_ERR_ABORTED' });
      });
      assert.equal(calls, 1, JSON.stringify(rateLimit));
      assert.deepEqual(warnings, []);
    }
  });

  test('a RateLimiter over 30 days keeps its second caller waiting', async () => {
    const limiter = new RateLimiter({ limit: 1, intervalMs: THIRTY_DAYS, burst: 1 });
    const controller = new AbortController();
    await limiter.acquire();
    let second = false;
    const waiting = limiter.acquire(undefined, controller.signal).then(() => {
      second = true;
    });
    await delay(30);
    assert.equal(second, false);
    controller.abort();
    await assert.rejects(waiting);
  });
});

describe('Retry-After is clamped', () => {
  test('retryAfterMs() - a server asking for 40 days gets MAX_RETRY_AFTER_MS (5 minutes)', () => {
    assert.equal(MAX_RETRY_AFTER_MS, 300_000);
    assert.equal(retryAfterMs({ headers: { 'retry-after': '3456000' } }), MAX_RETRY_AFTER_MS);
    assert.equal(retryAfterMs({ retryAfterMs: THIRTY_DAYS }), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter(3456000), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter(new Date(Date.now() + THIRTY_DAYS).toUTCString()), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('120'), 120_000);
  });

  test('a Retry-After of 40 days is not retried at once', async () => {
    let calls = 0;
    const controller = new AbortController();
    const run = flow([1])
      .map(
        () => {
          calls++;
          throw Object.assign(new Error('429'), { headers: { 'retry-after': '3456000' } });
        },
        { retry: { attempts: 3 } },
      )
      .run({ signal: controller.signal });
    await delay(30);
    controller.abort();
    await assert.rejects(run, { code: 'SLUICE_ERR_ABORTED' });
    assert.equal(calls, 1);
  });
});
