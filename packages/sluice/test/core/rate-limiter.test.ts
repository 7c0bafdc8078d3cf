import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock, flushMicrotasks } from '../../src/core/fake-clock.js';
import { RateLimiter, type RateLimiterOptions } from '../../src/core/rate-limiter.js';

/** Starts `count` acquires for `key` and records the fake time at which each resolves, in order. */
function acquireTimes<K>(limiter: RateLimiter<K>, clock: FakeClock, count: number, key?: K): number[] {
  const times: number[] = [];
  for (let i = 0; i < count; i++) void limiter.acquire(key).then(() => times.push(clock.now()));
  return times;
}

describe('RateLimiter', () => {
  describe('constructor', () => {
    const invalid: [string, unknown, string, RegExp][] = [
      ['perSecond: -1', { perSecond: -1 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"perSecond"/],
      ['perSecond: 0', { perSecond: 0 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"perSecond"/],
      ['perSecond: NaN', { perSecond: Number.NaN }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"perSecond"/],
      [
        'perSecond: Infinity',
        { perSecond: Number.POSITIVE_INFINITY },
        'SLUICE_ERR_INVALID_ARG_VALUE',
        /"perSecond"/,
      ],
      ['perSecond: "5"', { perSecond: '5' }, 'SLUICE_ERR_INVALID_ARG_TYPE', /"perSecond"/],
      ['limit: -1', { limit: -1 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"limit"/],
      ['limit: 0', { limit: 0 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"limit"/],
      ['limit: 1.5', { limit: 1.5 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"limit"/],
      ['limit: NaN', { limit: Number.NaN }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"limit"/],
      ['limit: "5"', { limit: '5' }, 'SLUICE_ERR_INVALID_ARG_TYPE', /"limit"/],
      ['intervalMs: -1', { limit: 1, intervalMs: -1 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"intervalMs"/],
      ['intervalMs: 0', { limit: 1, intervalMs: 0 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"intervalMs"/],
      [
        'intervalMs: NaN',
        { limit: 1, intervalMs: Number.NaN },
        'SLUICE_ERR_INVALID_ARG_VALUE',
        /"intervalMs"/,
      ],
      [
        'intervalMs: Infinity',
        { limit: 1, intervalMs: Number.POSITIVE_INFINITY },
        'SLUICE_ERR_INVALID_ARG_VALUE',
        /"intervalMs"/,
      ],
      ['intervalMs: "1s"', { limit: 1, intervalMs: '1s' }, 'SLUICE_ERR_INVALID_ARG_TYPE', /"intervalMs"/],
      ['burst: -1', { perSecond: 1, burst: -1 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"burst"/],
      ['burst: 0', { perSecond: 1, burst: 0 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"burst"/],
      ['burst: 2.5', { perSecond: 1, burst: 2.5 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"burst"/],
      ['burst: NaN', { limit: 1, burst: Number.NaN }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"burst"/],
      ['burst: "2"', { limit: 1, burst: '2' }, 'SLUICE_ERR_INVALID_ARG_TYPE', /"burst"/],
      ['maxIdleKeys: -1', { perSecond: 1, maxIdleKeys: -1 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"maxIdleKeys"/],
      [
        'maxIdleKeys: 0.5',
        { perSecond: 1, maxIdleKeys: 0.5 },
        'SLUICE_ERR_INVALID_ARG_VALUE',
        /"maxIdleKeys"/,
      ],
      [
        'maxIdleKeys: NaN',
        { perSecond: 1, maxIdleKeys: Number.NaN },
        'SLUICE_ERR_INVALID_ARG_VALUE',
        /"maxIdleKeys"/,
      ],
      [
        'maxIdleKeys: "10"',
        { perSecond: 1, maxIdleKeys: '10' },
        'SLUICE_ERR_INVALID_ARG_TYPE',
        /"maxIdleKeys"/,
      ],
      ['clock: {}', { perSecond: 1, clock: {} }, 'SLUICE_ERR_INVALID_ARG_TYPE', /"clock"/],
      ['clock: null', { perSecond: 1, clock: null }, 'SLUICE_ERR_INVALID_ARG_TYPE', /"clock"/],
      ['an unknown option', { perSecond: 1, rate: 5 }, 'SLUICE_ERR_UNKNOWN_OPTION', /"RateLimiter\.rate"/],
      ['options that are not an object', 5, 'SLUICE_ERR_INVALID_ARG_TYPE', /"RateLimiter"/],
      ['no options', undefined, 'SLUICE_ERR_INVALID_ARG_TYPE', /neither/],
      ['neither perSecond nor limit', { burst: 2 }, 'SLUICE_ERR_INVALID_ARG_TYPE', /neither/],
      ['both perSecond and limit', { perSecond: 1, limit: 1 }, 'SLUICE_ERR_INVALID_ARG_TYPE', /both/],
      [
        'intervalMs with perSecond',
        { perSecond: 1, intervalMs: 500 },
        'SLUICE_ERR_INVALID_ARG_TYPE',
        /"intervalMs"/,
      ],
    ];
    for (const [label, options, code, message] of invalid) {
      test(`constructor - rejects ${label} with ${code}`, () => {
        assert.throws(() => new RateLimiter(options as RateLimiterOptions), { code, message });
      });
    }

    test('constructor - treats an option set to undefined as not given', () => {
      const limiter = new RateLimiter({
        perSecond: 1,
        limit: undefined,
        burst: undefined,
        clock: new FakeClock(),
      });
      assert.equal(limiter.tryAcquire(), true);
    });

    test('constructor - burst defaults to Math.ceil(perSecond)', () => {
      const limiter = new RateLimiter({ perSecond: 2.5, clock: new FakeClock() });
      const taken = [1, 2, 3, 4].map(() => limiter.tryAcquire());
      assert.deepEqual(taken, [true, true, true, false]);
    });

    test('constructor - burst defaults to 1 for a rate below one a second', () => {
      const limiter = new RateLimiter({ perSecond: 0.1, clock: new FakeClock() });
      assert.deepEqual([limiter.tryAcquire(), limiter.tryAcquire()], [true, false]);
    });

    test('constructor - burst defaults to limit', () => {
      const limiter = new RateLimiter({ limit: 3, intervalMs: 60_000, clock: new FakeClock() });
      const taken = [1, 2, 3, 4].map(() => limiter.tryAcquire());
      assert.deepEqual(taken, [true, true, true, false]);
    });
  });

  test('.tryAcquire() - takes tokens while the bucket has them, then returns false', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 2, clock: new FakeClock() });
    assert.equal(limiter.tryAcquire(), true);
    assert.equal(limiter.tryAcquire(), true);
    assert.equal(limiter.tryAcquire(), false);
  });

  test('.tryAcquire() - tokens refill continuously with time', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 4, burst: 1, clock });
    limiter.tryAcquire();
    await clock.advance(249);
    assert.equal(limiter.tryAcquire(), false);
    await clock.advance(1);
    assert.equal(limiter.tryAcquire(), true);
  });

  test('.tryAcquire() - a bucket refills no further than burst', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 10, burst: 3, clock });
    await clock.advance(60_000);
    const taken = [1, 2, 3, 4].map(() => limiter.tryAcquire());
    assert.deepEqual(taken, [true, true, true, false]);
  });

  test('.tryAcquire() - returns false while callers wait, even once a token is back', async () => {
    const clock = new FakeClock();
    // 3 a second: a token is back at 333.3 ms, the waiter's timer is rounded up to 334 ms.
    const limiter = new RateLimiter({ perSecond: 3, burst: 1, clock });
    limiter.tryAcquire();
    const waiter = limiter.acquire();
    await clock.advance(333.5);
    assert.equal(limiter.tryAcquire(), false);
    await clock.advance(0.5);
    await waiter;
  });

  test('.tryAcquire() - keys have independent buckets', () => {
    const limiter = new RateLimiter<string>({ perSecond: 1, burst: 1, clock: new FakeClock() });
    assert.equal(limiter.tryAcquire('a.example'), true);
    assert.equal(limiter.tryAcquire('a.example'), false);
    assert.equal(limiter.tryAcquire('b.example'), true);
    assert.equal(limiter.tryAcquire(), true);
  });

  test('.acquire() - a full bucket lets burst calls through, then spaces them at the rate', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 2, burst: 2, clock });
    const times = acquireTimes(limiter, clock, 5);
    await clock.advance(1_500);
    assert.deepEqual(times, [0, 0, 500, 1_000, 1_500]);
  });

  test('.acquire() - limit and intervalMs set the spacing', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ limit: 4, intervalMs: 1_000, burst: 1, clock });
    const times = acquireTimes(limiter, clock, 4);
    await clock.advance(1_000);
    assert.deepEqual(times, [0, 250, 500, 750]);
  });

  test('.acquire() - rounding timers up to whole milliseconds does not drift the rate', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 3, burst: 1, clock });
    const times = acquireTimes(limiter, clock, 31);
    await clock.advance(10_000);
    assert.deepEqual(
      times,
      times.map((_, k) => Math.ceil((k * 1_000) / 3)),
    );
  });

  test('.acquire() - waits nothing while the bucket has tokens', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 3, clock });
    await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    assert.equal(clock.now(), 0);
    assert.equal(clock.pending, 0);
  });

  test('.acquire() - holds exactly one timer for a key with waiters, and none once all are served', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 10, burst: 1, clock });
    const all = Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    assert.equal(clock.pending, 1);
    await clock.advance(300);
    await all;
    assert.equal(clock.pending, 0);
    assert.equal(limiter.waiting(), 0);
  });

  test('.acquire() - serves waiters for one key in arrival order', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter<string>({ perSecond: 10, burst: 1, clock });
    limiter.tryAcquire('host');
    const order: string[] = [];
    for (const label of ['a', 'b', 'c', 'd']) void limiter.acquire('host').then(() => order.push(label));
    await clock.advance(400);
    assert.deepEqual(order, ['a', 'b', 'c', 'd']);
  });

  test('.acquire() - a busy key does not hold back another key', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter<string>({ perSecond: 1, burst: 1, clock });
    const slow = acquireTimes(limiter, clock, 3, 'slow.example');
    const fast = acquireTimes(limiter, clock, 1, 'fast.example');
    await clock.advance(2_000);
    assert.deepEqual(slow, [0, 1_000, 2_000]);
    assert.deepEqual(fast, [0]);
  });

  test('.acquire() - an abort while waiting rejects with SLUICE_ERR_ABORTED and clears the timer', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, clock });
    limiter.tryAcquire();
    const controller = new AbortController();
    const waiter = limiter.acquire(undefined, controller.signal);
    assert.equal(clock.pending, 1);
    await clock.advance(500);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await assert.rejects(waiter, { code: 'SLUICE_ERR_ABORTED', cause: reason });
    assert.equal(clock.pending, 0);
    assert.equal(limiter.waiting(), 0);
  });

  test('.acquire() - an aborted waiter leaves its token for the next caller', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, clock });
    limiter.tryAcquire();
    const controller = new AbortController();
    limiter.acquire(undefined, controller.signal).catch(() => undefined);
    controller.abort();
    await clock.advance(1_000);
    assert.equal(limiter.tryAcquire(), true);
  });

  test('.acquire() - aborting one waiter keeps the timer for the others and their times', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 2, burst: 1, clock });
    limiter.tryAcquire();
    const controller = new AbortController();
    limiter.acquire(undefined, controller.signal).catch(() => undefined);
    const times = acquireTimes(limiter, clock, 2);
    controller.abort();
    await flushMicrotasks();
    assert.equal(clock.pending, 1);
    assert.equal(limiter.waiting(), 2);
    await clock.advance(1_000);
    assert.deepEqual(times, [500, 1_000]);
    assert.equal(clock.pending, 0);
  });

  test('.acquire() - an already-aborted signal rejects at once, queues nothing and takes no token', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, clock });
    await assert.rejects(limiter.acquire(undefined, AbortSignal.abort()), { code: 'SLUICE_ERR_ABORTED' });
    assert.equal(limiter.waiting(), 0);
    assert.equal(clock.pending, 0);
    assert.equal(limiter.tryAcquire(), true);
  });

  test('.acquire() - a signal that is not an AbortSignal rejects with SLUICE_ERR_INVALID_ARG_TYPE', async () => {
    const limiter = new RateLimiter({ perSecond: 1, clock: new FakeClock() });
    await assert.rejects(limiter.acquire(undefined, 'stop' as unknown as AbortSignal), {
      code: 'SLUICE_ERR_INVALID_ARG_TYPE',
    });
  });

  test('.waiting() - counts the callers queued for a key', () => {
    const limiter = new RateLimiter<string>({ perSecond: 1, burst: 1, clock: new FakeClock() });
    void limiter.acquire('a');
    void limiter.acquire('a');
    void limiter.acquire('a');
    assert.equal(limiter.waiting('a'), 2);
    assert.equal(limiter.waiting('b'), 0);
  });

  test('.penalize() - no call starts before the pause ends, then calls resume at the rate', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 2, burst: 2, clock });
    limiter.penalize(undefined, 1_000);
    assert.equal(limiter.tryAcquire(), false);
    const times = acquireTimes(limiter, clock, 3);
    await clock.advance(2_000);
    assert.deepEqual(times, [1_000, 1_500, 2_000]);
  });

  test('.penalize() - moves the timer of callers already waiting', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, clock });
    limiter.tryAcquire();
    const times = acquireTimes(limiter, clock, 1);
    limiter.penalize(undefined, 3_000);
    assert.equal(clock.pending, 1);
    await clock.advance(2_999);
    assert.deepEqual(times, []);
    await clock.advance(1);
    assert.deepEqual(times, [3_000]);
  });

  test('.penalize() - a shorter pause does not cut a longer one short', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 10, clock });
    limiter.penalize(undefined, 2_000);
    limiter.penalize(undefined, 500);
    await clock.advance(1_999);
    assert.equal(limiter.tryAcquire(), false);
    await clock.advance(1);
    assert.equal(limiter.tryAcquire(), true);
  });

  test('.penalize() - a pause shorter than the wait for the next token brings that token no sooner', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, clock });
    limiter.tryAcquire();
    limiter.penalize(undefined, 10);
    await clock.advance(10);
    assert.equal(limiter.tryAcquire(), false);
    await clock.advance(990);
    assert.equal(limiter.tryAcquire(), true);
  });

  test('.penalize() - pauses only the given key', () => {
    const limiter = new RateLimiter<string>({ perSecond: 1, clock: new FakeClock() });
    limiter.penalize('busy.example', 60_000);
    assert.equal(limiter.tryAcquire('busy.example'), false);
    assert.equal(limiter.tryAcquire('other.example'), true);
  });

  for (const [ms, code] of [
    [-1, 'SLUICE_ERR_INVALID_ARG_VALUE'],
    [Number.NaN, 'SLUICE_ERR_INVALID_ARG_VALUE'],
    ['5', 'SLUICE_ERR_INVALID_ARG_TYPE'],
  ] as const) {
    test(`.penalize() - rejects ms ${String(ms)} with ${code}`, () => {
      const limiter = new RateLimiter({ perSecond: 1, clock: new FakeClock() });
      assert.throws(() => limiter.penalize(undefined, ms as number), { code, message: /"ms"/ });
    });
  }

  test('.size - idle buckets are swept, so a crawl over many hosts stays bounded', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter<string>({ perSecond: 1, burst: 1, maxIdleKeys: 100, clock });
    let largest = 0;
    for (let host = 0; host < 10_000; host++) {
      assert.equal(limiter.tryAcquire(`host-${host}.example`), true);
      largest = Math.max(largest, limiter.size);
      // 50 new hosts a second: each bucket is full again, hence idle, a second after its use.
      if (host % 50 === 49) await clock.advance(1_000);
    }
    assert.ok(largest <= 101, `held ${largest} buckets`);
  });

  test('.size - a sweep keeps drained, paused and waited-on buckets', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter<string>({ perSecond: 1, burst: 1, maxIdleKeys: 4, clock });
    limiter.tryAcquire('idle');
    await clock.advance(1_000);
    limiter.tryAcquire('drained');
    limiter.penalize('paused', 60_000);
    limiter.tryAcquire('waited-on');
    const waiter = limiter.acquire('waited-on');
    await clock.advance(500);
    // The fifth bucket sweeps: only 'idle' is full again.
    limiter.tryAcquire('trigger');
    assert.equal(limiter.size, 4);
    assert.equal(limiter.tryAcquire('drained'), false);
    assert.equal(limiter.tryAcquire('paused'), false);
    assert.equal(limiter.waiting('waited-on'), 1);
    await clock.advance(500);
    await waiter;
  });

  test('.size - a sweep drops buckets that are full again', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter<string>({ perSecond: 1, burst: 1, maxIdleKeys: 2, clock });
    limiter.tryAcquire('a');
    limiter.tryAcquire('b');
    await clock.advance(1_000);
    limiter.tryAcquire('c');
    assert.equal(limiter.size, 1);
  });

  test('.size - never sweeps with maxIdleKeys Infinity', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter<number>({ perSecond: 1, maxIdleKeys: Number.POSITIVE_INFINITY, clock });
    for (let key = 0; key < 1_000; key++) limiter.tryAcquire(key);
    await clock.advance(10_000);
    limiter.tryAcquire(-1);
    assert.equal(limiter.size, 1_001);
  });
});
