import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { sleep } from '../../src/core/clock.js';
import { DeadlineQueue, withDeadline } from '../../src/core/deadline.js';
import { AbortError } from '../../src/core/errors.js';
import { FakeClock, flushMicrotasks } from '../../src/core/fake-clock.js';
import { LazySignal } from '../../src/core/lazy-signal.js';

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

test('DeadlineQueue - calls started in one millisecond share one timer, and none is left once they settle', async () => {
  const clock = new FakeClock();
  const queue = new DeadlineQueue(1_000, clock);
  const calls = Array.from({ length: 100 }, (_, i) => queue.run(async () => i));
  assert.equal(clock.pending, 1);
  assert.deepEqual(
    await Promise.all(calls),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.equal(clock.pending, 0, 'a finished stage holds no timer open');
});

test('DeadlineQueue - each call times out at its own deadline, never early, and a finished call keeps its signal', async () => {
  const clock = new FakeClock();
  const queue = new DeadlineQueue(1_000, clock);
  const hang = () => new Promise<never>(() => undefined);
  const settledAt = new Map<string, number>();
  const watch = (name: string, call: Promise<unknown>) =>
    call.then(
      () => settledAt.set(name, -clock.now()),
      (error: { code?: string }) => {
        assert.equal(error.code, 'SLUICE_ERR_TIMEOUT');
        settledAt.set(name, clock.now());
      },
    );
  let finishedSignal: AbortSignal | undefined;
  void watch(
    'finished',
    queue.run(async (deadline) => {
      finishedSignal = deadline.signal;
      return 'ok';
    }),
  );
  void watch('a', queue.run(hang));
  await clock.advance(300.5);
  // Started between two milliseconds: due at 1,301 (a millisecond late at most), not at 1,300.5.
  void watch('b', queue.run(hang));
  await clock.advance(699.5);
  assert.equal(settledAt.get('a'), 1_000);
  assert.equal(settledAt.has('b'), false);
  await clock.advance(300.5);
  assert.equal(settledAt.has('b'), false, 'not before its 1,000 ms');
  await clock.advance(0.5);
  assert.equal(settledAt.get('b'), 1_301);
  assert.equal(settledAt.get('finished'), -0);
  assert.equal(
    finishedSignal?.aborted,
    false,
    'a call that finished in time is never aborted: what it handed on lives on',
  );
  assert.equal(clock.pending, 0);
});

test('DeadlineQueue - the parent aborting rejects every pending call with its reason, and clears the timer', async () => {
  const clock = new FakeClock();
  const parent = new AbortController();
  const queue = new DeadlineQueue(1_000, clock, parent.signal);
  const signals: AbortSignal[] = [];
  const calls = [0, 1, 2].map(() =>
    queue.run((deadline) => {
      signals.push(deadline.signal);
      return new Promise<never>(() => undefined);
    }),
  );
  parent.abort();
  for (const call of calls) await assert.rejects(call, { code: 'SLUICE_ERR_ABORTED' });
  assert.ok(signals.every((signal) => signal.aborted));
  assert.equal(clock.pending, 0);
  await assert.rejects(
    queue.run(async () => 1),
    { code: 'SLUICE_ERR_ABORTED' },
  );
});

test('DeadlineQueue - a LazySignal parent is watched without being made, and its abort rejects every pending call', async () => {
  const clock = new FakeClock();
  const parent = new LazySignal(true);
  const queue = new DeadlineQueue(1_000, clock, parent);
  const calls = [0, 1].map(() => queue.run(() => new Promise<never>(() => undefined)));
  const reason = new AbortError('the run stopped');
  parent.abort(reason);
  for (const call of calls) await assert.rejects(call, (error) => error === reason);
  assert.equal(clock.pending, 0);
  await assert.rejects(
    queue.run(async () => 1),
    (error) => error === reason,
  );
});

test('DeadlineQueue - property: every call settles once, with its value if it finished by its deadline, else timed out at ceil(start) + ms', async () => {
  const seed = 20261129;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 50 }),
      fc.array(
        fc.record({
          // Start times on whole and half milliseconds; durations, or a call that never settles.
          startHalves: fc.integer({ min: 0, max: 200 }),
          duration: fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
        }),
        { minLength: 1, maxLength: 30 },
      ),
      async (ms, specs) => {
        const clock = new FakeClock();
        const queue = new DeadlineQueue(ms, clock);
        const outcomes: { kind: 'value' | 'timeout'; at: number }[] = [];
        for (const [i, spec] of specs.entries()) {
          const start = spec.startHalves / 2;
          clock.setTimeout(() => {
            queue
              .run(() =>
                spec.duration === undefined
                  ? new Promise<never>(() => undefined)
                  : new Promise<number>((resolve) =>
                      clock.setTimeout(() => resolve(i), spec.duration as number),
                    ),
              )
              .then(
                (value) => {
                  assert.equal(value, i);
                  outcomes[i] = { kind: 'value', at: clock.now() };
                },
                (error: { code?: string }) => {
                  assert.equal(error.code, 'SLUICE_ERR_TIMEOUT');
                  outcomes[i] = { kind: 'timeout', at: clock.now() };
                },
              );
          }, start);
        }
        await clock.advance(100 + 120 + 50 + 2);
        for (const [i, spec] of specs.entries()) {
          const start = spec.startHalves / 2;
          const due = Math.ceil(start) + ms;
          const outcome = outcomes[i];
          assert.ok(outcome !== undefined, `call ${i} settled`);
          if (outcome.kind === 'timeout') {
            assert.equal(outcome.at, due, `call ${i} timed out at its deadline`);
            assert.ok(
              spec.duration === undefined || start + spec.duration >= due,
              `call ${i} had not finished`,
            );
          } else {
            assert.ok(
              spec.duration !== undefined && start + spec.duration <= due,
              `call ${i} finished in time`,
            );
          }
        }
        assert.equal(clock.pending, 0, 'no timer left');
      },
    ),
    { seed, numRuns: 300, verbose: true },
  );
});
