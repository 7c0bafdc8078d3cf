import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep } from '../../src/core/clock.js';
import { LazySignal, withDeadline } from '../../src/core/deadline.js';
import { FakeClock, flushMicrotasks } from '../../src/core/fake-clock.js';

test('withDeadline() - resolves with the value and clears its timer', async () => {
  const clock = new FakeClock();
  assert.equal(await withDeadline(async () => 42, 1_000, clock), 42);
  assert.equal(clock.pending, 0);
});

test('withDeadline() - a call that never settles rejects with SLUICE_ERR_TIMEOUT and its signal aborts', async () => {
  const clock = new FakeClock();
  let seen: AbortSignal | undefined;
  const result = withDeadline(
    (signal) => {
      seen = signal;
      return new Promise<never>(() => undefined);
    },
    500,
    clock,
  );
  result.catch(() => undefined);
  await clock.advance(499);
  assert.equal(seen?.aborted, false);
  await clock.advance(1);
  await assert.rejects(result, { code: 'SLUICE_ERR_TIMEOUT' });
  assert.equal(seen?.aborted, true);
  assert.equal(clock.pending, 0);
});

test('withDeadline() - a synchronous throw rejects, and the timer is cleared', async () => {
  const clock = new FakeClock();
  await assert.rejects(
    withDeadline(
      () => {
        throw new Error('sync');
      },
      100,
      clock,
    ),
    /sync/,
  );
  assert.equal(clock.pending, 0);
});

test('withDeadline() - the parent signal aborting rejects at once with a coded abort', async () => {
  const clock = new FakeClock();
  const parent = new AbortController();
  const result = withDeadline(() => new Promise<never>(() => undefined), 10_000, clock, parent.signal);
  await flushMicrotasks();
  parent.abort(new Error('shutdown'));
  await assert.rejects(result, { code: 'SLUICE_ERR_ABORTED' });
  assert.equal(clock.pending, 0);
});

test('withDeadline() and sleep() reject bad durations with coded errors', async () => {
  const clock = new FakeClock();
  await assert.rejects(
    withDeadline(async () => 1, 0, clock),
    { code: 'SLUICE_ERR_INVALID_ARG_VALUE' },
  );
  await assert.rejects(
    withDeadline(async () => 1, Number.NaN, clock),
    { code: 'SLUICE_ERR_INVALID_ARG_VALUE' },
  );
  await assert.rejects(withDeadline('x' as never, 10, clock), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
  await assert.rejects(sleep(clock, -1), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
  await assert.rejects(sleep(clock, '5' as never), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
  assert.equal(clock.pending, 0);
});

test('LazySignal - made on first read, the same one after; read after the abort, it comes aborted with the reason', () => {
  const early = new LazySignal();
  const signal = early.signal;
  assert.equal(early.signal, signal);
  assert.equal(signal.aborted, false);
  early.abort('first');
  early.abort('second');
  assert.equal(signal.aborted, true);
  assert.equal(signal.reason, 'first');

  const late = new LazySignal();
  late.abort('gone');
  assert.equal(late.signal.aborted, true);
  assert.equal(late.signal.reason, 'gone');
});
