import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AbortError } from '../../src/core/errors.js';
import { flushMicrotasks } from '../../src/core/fake-clock.js';
import { Semaphore } from '../../src/core/semaphore.js';
import { settleOrder } from '../helpers/settle-order.js';

describe('Semaphore', () => {
  test('constructor - accepts an integer >= 1 or Infinity', () => {
    assert.equal(new Semaphore(1).permits, 1);
    assert.equal(new Semaphore(8).available, 8);
    assert.equal(new Semaphore(Number.POSITIVE_INFINITY).permits, Number.POSITIVE_INFINITY);
  });

  for (const permits of [0, -1, 1.5, Number.NaN, Number.NEGATIVE_INFINITY]) {
    test(`constructor - rejects permits ${permits} with SLUICE_ERR_INVALID_ARG_VALUE`, () => {
      assert.throws(() => new Semaphore(permits), {
        name: 'InvalidArgValueError',
        code: 'SLUICE_ERR_INVALID_ARG_VALUE',
        message: /"permits"/,
      });
    });
  }

  for (const permits of ['2', undefined, null]) {
    test(`constructor - rejects permits ${String(permits)} with SLUICE_ERR_INVALID_ARG_TYPE`, () => {
      assert.throws(() => new Semaphore(permits as unknown as number), {
        name: 'InvalidArgTypeError',
        code: 'SLUICE_ERR_INVALID_ARG_TYPE',
        message: /"permits"/,
      });
    });
  }

  test('.tryAcquire() - takes free permits, then returns false', () => {
    const semaphore = new Semaphore(2);
    assert.equal(semaphore.tryAcquire(), true);
    assert.equal(semaphore.tryAcquire(), true);
    assert.equal(semaphore.tryAcquire(), false);
    assert.equal(semaphore.available, 0);
  });

  test('.tryAcquire() - never takes a released permit from a queued waiter', async () => {
    const semaphore = new Semaphore(1);
    semaphore.tryAcquire();
    const waiter = semaphore.acquire();
    semaphore.release();
    assert.equal(semaphore.tryAcquire(), false);
    await waiter;
    assert.equal(semaphore.available, 0);
    assert.equal(semaphore.waiting, 0);
  });

  test('.tryAcquire() - always succeeds with Infinity permits', () => {
    const semaphore = new Semaphore(Number.POSITIVE_INFINITY);
    for (let i = 0; i < 1_000; i++) assert.equal(semaphore.tryAcquire(), true);
    assert.equal(semaphore.available, Number.POSITIVE_INFINITY);
  });

  test('.acquire() - resolves at once while permits are free', async () => {
    const semaphore = new Semaphore(2);
    await semaphore.acquire();
    await semaphore.acquire();
    assert.equal(semaphore.available, 0);
    assert.equal(semaphore.waiting, 0);
  });

  test('.acquire() - queues when no permit is free', async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const order = settleOrder({ a: semaphore.acquire() });
    await flushMicrotasks();
    assert.deepEqual(order, []);
    assert.equal(semaphore.waiting, 1);
  });

  test('.acquire() - serves waiters in arrival order', async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const order = settleOrder({ a: semaphore.acquire(), b: semaphore.acquire(), c: semaphore.acquire() });
    for (let i = 0; i < 3; i++) {
      semaphore.release();
      await flushMicrotasks();
    }
    assert.deepEqual(order, ['a', 'b', 'c']);
  });

  test('.acquire() - an abort while waiting rejects with SLUICE_ERR_ABORTED and removes the waiter', async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const controller = new AbortController();
    const waiter = semaphore.acquire(controller.signal);
    assert.equal(semaphore.waiting, 1);
    const reason = new Error('gave up');
    controller.abort(reason);
    await assert.rejects(waiter, { code: 'SLUICE_ERR_ABORTED', cause: reason });
    assert.equal(semaphore.waiting, 0);
  });

  test('.acquire() - an aborted waiter never consumes a permit', async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const controller = new AbortController();
    const aborted = semaphore.acquire(controller.signal);
    aborted.catch(() => undefined);
    const next = semaphore.acquire();
    controller.abort();
    semaphore.release();
    await next;
    semaphore.release();
    assert.equal(semaphore.available, 1);
  });

  test('.acquire() - aborting a waiter in the middle keeps the others in order', async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const controller = new AbortController();
    const order = settleOrder({
      a: semaphore.acquire(),
      b: semaphore.acquire(controller.signal),
      c: semaphore.acquire(),
    });
    controller.abort();
    await flushMicrotasks();
    semaphore.release();
    await flushMicrotasks();
    semaphore.release();
    await flushMicrotasks();
    assert.deepEqual(order, ['b:rejected', 'a', 'c']);
    assert.equal(semaphore.waiting, 0);
  });

  test('.acquire() - an abort reason that is already a sluice error is passed through', async () => {
    const semaphore = new Semaphore(1);
    semaphore.tryAcquire();
    const reason = new AbortError('stage stopped');
    const controller = new AbortController();
    const waiter = semaphore.acquire(controller.signal);
    controller.abort(reason);
    assert.equal(await waiter.catch((error: unknown) => error), reason);
  });

  test('.acquire() - an already-aborted signal rejects at once without taking a permit', async () => {
    const semaphore = new Semaphore(1);
    await assert.rejects(semaphore.acquire(AbortSignal.abort()), { code: 'SLUICE_ERR_ABORTED' });
    assert.equal(semaphore.available, 1);
    assert.equal(semaphore.waiting, 0);
  });

  test('.acquire() - a signal that is not an AbortSignal rejects with SLUICE_ERR_INVALID_ARG_TYPE', async () => {
    const semaphore = new Semaphore(1);
    await assert.rejects(semaphore.acquire({ aborted: false } as AbortSignal), {
      code: 'SLUICE_ERR_INVALID_ARG_TYPE',
    });
    assert.equal(semaphore.available, 1);
  });

  test('.acquire() - serves a long queue in order', async () => {
    const semaphore = new Semaphore(1);
    semaphore.tryAcquire();
    const served: number[] = [];
    const waiters = Array.from({ length: 10_000 }, (_, i) => semaphore.acquire().then(() => served.push(i)));
    for (let i = 0; i < waiters.length; i++) semaphore.release();
    await Promise.all(waiters);
    assert.deepEqual(
      served,
      waiters.map((_, i) => i),
    );
    assert.equal(semaphore.waiting, 0);
  });

  test('.release() - returns the permit when nobody waits', () => {
    const semaphore = new Semaphore(2);
    semaphore.tryAcquire();
    semaphore.release();
    assert.equal(semaphore.available, 2);
  });

  test('.release() - hands the permit straight to the first waiter', async () => {
    const semaphore = new Semaphore(1);
    semaphore.tryAcquire();
    const waiter = semaphore.acquire();
    semaphore.release();
    assert.equal(semaphore.available, 0);
    assert.equal(semaphore.waiting, 0);
    await waiter;
  });

  test('.release() - releasing more than was acquired throws SLUICE_ERR_INVALID_ARG_VALUE', () => {
    const semaphore = new Semaphore(2);
    semaphore.tryAcquire();
    semaphore.release();
    assert.throws(() => semaphore.release(), {
      name: 'InvalidArgValueError',
      code: 'SLUICE_ERR_INVALID_ARG_VALUE',
      message: /no permit held/,
    });
    assert.equal(semaphore.available, 2);
  });

  test('.release() - an over-release throws with Infinity permits too', () => {
    const semaphore = new Semaphore(Number.POSITIVE_INFINITY);
    assert.throws(() => semaphore.release(), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
  });

  test('.use() - resolves with what the function returns and releases', async () => {
    const semaphore = new Semaphore(1);
    assert.equal(await semaphore.use(async () => 42), 42);
    assert.equal(semaphore.available, 1);
  });

  test('.use() - releases when the function rejects', async () => {
    const semaphore = new Semaphore(1);
    await assert.rejects(
      semaphore.use(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(semaphore.available, 1);
  });

  test('.use() - releases when the function throws synchronously', async () => {
    const semaphore = new Semaphore(1);
    await assert.rejects(
      semaphore.use(() => {
        throw new Error('sync boom');
      }),
      /sync boom/,
    );
    assert.equal(semaphore.available, 1);
  });

  test('.use() - holds the permit while the function runs', async () => {
    const semaphore = new Semaphore(1);
    let finish = (): void => undefined;
    const first = semaphore.use(() => new Promise<void>((resolve) => (finish = resolve)));
    const order = settleOrder({ second: semaphore.use(() => undefined) });
    await flushMicrotasks();
    assert.deepEqual(order, []);
    assert.equal(semaphore.waiting, 1);
    finish();
    await first;
    await flushMicrotasks();
    assert.deepEqual(order, ['second']);
    assert.equal(semaphore.available, 1);
  });

  test('.use() - an abort while waiting rejects without running the function', async () => {
    const semaphore = new Semaphore(1);
    semaphore.tryAcquire();
    let ran = false;
    const controller = new AbortController();
    const result = semaphore.use(() => {
      ran = true;
    }, controller.signal);
    controller.abort();
    await assert.rejects(result, { code: 'SLUICE_ERR_ABORTED' });
    assert.equal(ran, false);
    assert.equal(semaphore.available, 0);
  });

  test('.use() - a non-function rejects with SLUICE_ERR_INVALID_ARG_TYPE and takes no permit', async () => {
    const semaphore = new Semaphore(1);
    await assert.rejects(semaphore.use('run' as unknown as () => void), {
      code: 'SLUICE_ERR_INVALID_ARG_TYPE',
    });
    assert.equal(semaphore.available, 1);
  });
});
