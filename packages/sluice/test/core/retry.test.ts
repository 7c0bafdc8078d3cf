import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock, flushMicrotasks } from '../../src/core/fake-clock.js';
import {
  backoffDelay,
  normalizeRetry,
  parseRetryAfter,
  RetriesExhausted,
  retry,
  retryAfterMs,
  retrying,
} from '../../src/core/retry.js';

test('retry() - succeeds on a later attempt and reports each retry', async () => {
  const clock = new FakeClock();
  const seen: number[] = [];
  let calls = 0;
  const result = retry(
    () => {
      calls++;
      if (calls < 3) throw new Error(`fail ${calls}`);
      return 'ok';
    },
    {
      attempts: 5,
      baseDelayMs: 100,
      jitter: false,
      clock,
      onRetry: (_e, attempt, delay) => seen.push(attempt, delay),
    },
  );
  await clock.runAll();
  assert.equal(await result, 'ok');
  assert.equal(calls, 3);
  assert.deepEqual(seen, [1, 100, 2, 200]);
});

test('retry() - waits the exponential window on the clock before each attempt', async () => {
  const clock = new FakeClock();
  const startedAt: number[] = [];
  const result = retry(
    () => {
      startedAt.push(clock.now());
      throw new Error('down');
    },
    { attempts: 4, baseDelayMs: 50, jitter: false, clock },
  );
  result.catch(() => undefined);
  await clock.runAll();
  await assert.rejects(result, /down/);
  assert.deepEqual(startedAt, [0, 50, 150, 350]);
});

test('retry() - full jitter draws each wait within [0, window] and caps at maxDelayMs', () => {
  const policy = normalizeRetry('retry', { baseDelayMs: 100, maxDelayMs: 1000 });
  assert.equal(
    backoffDelay(policy, 1, () => 0.5),
    50,
  );
  assert.equal(
    backoffDelay(policy, 3, () => 0.5),
    200,
  );
  assert.equal(
    backoffDelay(policy, 10, () => 0.999),
    999,
  );
  assert.equal(
    backoffDelay(policy, 10, () => 0),
    0,
  );
});

test('retry() - stops when retryable says no', async () => {
  let calls = 0;
  await assert.rejects(
    retry(
      () => {
        calls++;
        throw Object.assign(new Error('bad request'), { status: 400 });
      },
      { attempts: 5, retryable: (e) => (e as { status: number }).status >= 500, clock: new FakeClock() },
    ),
    /bad request/,
  );
  assert.equal(calls, 1);
});

test('retry() - honours a Retry-After the error carries instead of the backoff', async () => {
  const clock = new FakeClock();
  const startedAt: number[] = [];
  const result = retry(
    () => {
      startedAt.push(clock.now());
      if (startedAt.length === 1) throw Object.assign(new Error('429'), { headers: { 'retry-after': '7' } });
      return 'ok';
    },
    { attempts: 2, baseDelayMs: 1, clock },
  );
  await clock.advance(6_999);
  assert.equal(startedAt.length, 1);
  await clock.advance(1);
  assert.equal(await result, 'ok');
  assert.deepEqual(startedAt, [0, 7_000]);
});

test('retry() - an abort during the backoff rejects at once and clears the timer', async () => {
  const clock = new FakeClock();
  const controller = new AbortController();
  const result = retry(
    () => {
      throw new Error('down');
    },
    { attempts: 3, baseDelayMs: 1_000, clock, signal: controller.signal },
  );
  await flushMicrotasks();
  assert.equal(clock.pending, 1);
  controller.abort();
  await assert.rejects(result, { code: 'SLUICE_ERR_ABORTED' });
  assert.equal(clock.pending, 0);
});

test('retry() - invalid options are coded errors naming the option', async () => {
  await assert.rejects(
    retry(() => 1, { attempts: 0 }),
    {
      code: 'SLUICE_ERR_INVALID_ARG_VALUE',
      message: /"retry.attempts".*Received 0/,
    },
  );
  await assert.rejects(
    retry(() => 1, { attempts: Number.NaN }),
    { code: 'SLUICE_ERR_INVALID_ARG_VALUE' },
  );
  await assert.rejects(
    retry(() => 1, { baseDelayMs: -1 }),
    { code: 'SLUICE_ERR_INVALID_ARG_VALUE' },
  );
  await assert.rejects(
    retry(() => 1, { jitter: 'yes' as unknown as boolean }),
    { code: 'SLUICE_ERR_INVALID_ARG_TYPE' },
  );
  await assert.rejects(
    retry(() => 1, { attemps: 3 } as never),
    { code: 'SLUICE_ERR_UNKNOWN_OPTION' },
  );
});

test('retryAfterMs() - reads the forms HTTP clients attach', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMs({ retryAfterMs: 1500 }), 1500);
  assert.equal(retryAfterMs({ retryAfter: 2 }), 2000);
  assert.equal(retryAfterMs({ headers: { 'retry-after': '3' } }), 3000);
  assert.equal(retryAfterMs({ response: { headers: new Headers({ 'Retry-After': '4' }) } }), 4000);
  assert.equal(retryAfterMs({ retryAfter: 'Thu, 01 Jan 2026 00:00:05 GMT' }, now), 5000);
  assert.equal(retryAfterMs(new Error('plain')), undefined);
  assert.equal(parseRetryAfter('soon'), undefined);
});

test('retry() - a thrown revoked Proxy is retried and then rethrown, not a TypeError from reading it', async () => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  let calls = 0;
  const clock = new FakeClock();
  const result = retry(
    () => {
      calls++;
      throw proxy;
    },
    { attempts: 2, baseDelayMs: 10, jitter: false, clock },
  );
  // Boxed and compared by identity: anything that reads the revoked Proxy throws, even a promise
  // resolved with it (it looks for a then).
  const settled = result.then(
    () => ['resolved'],
    (thrown: unknown) => [thrown],
  );
  await clock.runAll();
  assert.ok((await settled)[0] === proxy);
  assert.equal(calls, 2);
});

test('retrying() - picks up from an attempt that already failed, on the clock, and gives up with the attempts taken', async () => {
  const clock = new FakeClock();
  const attempts: number[] = [];
  const told: string[] = [];
  const result = retrying(
    (attempt) => {
      attempts.push(attempt);
      throw new Error(`down ${attempt}`);
    },
    {
      policy: normalizeRetry('retry', {
        attempts: 3,
        baseDelayMs: 10,
        jitter: false,
        onRetry: () => told.push('policy'),
      }),
      clock,
      signal: undefined,
      onRetry: (_error, attempt, delay) => told.push(`schedule ${attempt} ${delay}`),
    },
    { error: new Error('down 1'), attempt: 1 },
  );
  result.catch(() => undefined);
  await clock.runAll();
  const gaveUp = await result.catch((e: unknown) => e);
  assert.ok(gaveUp instanceof RetriesExhausted);
  assert.equal(gaveUp.attempts, 3);
  assert.equal((gaveUp.error as Error).message, 'down 3');
  assert.deepEqual(attempts, [2, 3], 'the failed first attempt is not made again');
  assert.deepEqual(told, ['schedule 1 10', 'policy', 'schedule 2 20', 'policy']);
});

test('retrying() - canRetry vetoes a retry the policy would allow; no policy means one attempt', async () => {
  const clock = new FakeClock();
  const fatal = new Error('fatal');
  let calls = 0;
  const vetoed = await retrying(
    () => {
      calls++;
      throw fatal;
    },
    { policy: normalizeRetry('retry', 5), clock, signal: undefined, canRetry: (e) => e !== fatal },
  ).catch((e: unknown) => e);
  assert.equal(calls, 1);
  assert.ok(vetoed instanceof RetriesExhausted && vetoed.error === fatal && vetoed.attempts === 1);
  const once = await retrying(
    () => {
      calls++;
      throw fatal;
    },
    { policy: undefined, clock, signal: undefined },
  ).catch((e: unknown) => e);
  assert.equal(calls, 2);
  assert.ok(once instanceof RetriesExhausted && once.attempts === 1);
});
