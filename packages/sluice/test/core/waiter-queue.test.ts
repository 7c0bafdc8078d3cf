import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { flushMicrotasks } from '../../src/core/fake-clock.js';
import { WaiterQueue } from '../../src/core/waiter-queue.js';
import { settleOrder } from '../helpers/settle-order.js';

describe('WaiterQueue', () => {
  test('.serve() - resolves waiters in arrival order, one per call', async () => {
    const waiters = new WaiterQueue();
    const order = settleOrder({ a: waiters.enqueue(), b: waiters.enqueue(), c: waiters.enqueue() });
    assert.equal(waiters.size, 3);
    assert.equal(waiters.serve(), true);
    await flushMicrotasks();
    assert.deepEqual(order, ['a']);
    assert.equal(waiters.serve(), true);
    assert.equal(waiters.serve(), true);
    await flushMicrotasks();
    assert.deepEqual(order, ['a', 'b', 'c']);
    assert.equal(waiters.size, 0);
  });

  test('.serve() - returns false on an empty queue', () => {
    assert.equal(new WaiterQueue().serve(), false);
  });

  test('.enqueue() - an abort unlinks a waiter from the middle and keeps the others in order', async () => {
    const waiters = new WaiterQueue();
    const controller = new AbortController();
    const order = settleOrder({
      a: waiters.enqueue(),
      b: waiters.enqueue(controller.signal),
      c: waiters.enqueue(),
    });
    controller.abort();
    await flushMicrotasks();
    assert.deepEqual(order, ['b:rejected']);
    assert.equal(waiters.size, 2);
    waiters.serve();
    waiters.serve();
    await flushMicrotasks();
    assert.deepEqual(order, ['b:rejected', 'a', 'c']);
    assert.equal(waiters.size, 0);
  });

  test('.enqueue() - an abort rejects with SLUICE_ERR_ABORTED, the reason as cause', async () => {
    const waiters = new WaiterQueue();
    const controller = new AbortController();
    const turn = waiters.enqueue(controller.signal);
    const reason = new Error('gave up');
    controller.abort(reason);
    await assert.rejects(turn, { code: 'SLUICE_ERR_ABORTED', cause: reason });
  });

  test('.enqueue() - an already-aborted signal rejects at once and queues nothing', async () => {
    const waiters = new WaiterQueue();
    const turn = waiters.enqueue(AbortSignal.abort());
    assert.equal(waiters.size, 0);
    await assert.rejects(turn, { code: 'SLUICE_ERR_ABORTED' });
  });

  test('.enqueue() - a signal that is not an AbortSignal rejects with SLUICE_ERR_INVALID_ARG_TYPE', async () => {
    const waiters = new WaiterQueue();
    await assert.rejects(waiters.enqueue({ aborted: false } as AbortSignal), {
      code: 'SLUICE_ERR_INVALID_ARG_TYPE',
    });
    assert.equal(waiters.size, 0);
  });

  test('.serve() - a served waiter ignores a later abort of its signal', async () => {
    const waiters = new WaiterQueue();
    const controller = new AbortController();
    const turn = waiters.enqueue(controller.signal);
    waiters.serve();
    controller.abort();
    await turn;
    assert.equal(waiters.size, 0);
  });

  test('constructor - the callback fires when an abort takes out the last waiter, and only then', () => {
    let emptied = 0;
    const waiters = new WaiterQueue(() => emptied++);
    const first = new AbortController();
    const second = new AbortController();
    waiters.enqueue(first.signal).catch(() => undefined);
    waiters.enqueue(second.signal).catch(() => undefined);
    first.abort();
    assert.equal(emptied, 0);
    second.abort();
    assert.equal(emptied, 1);
  });

  test('constructor - the callback does not fire when serving empties the queue', () => {
    let emptied = 0;
    const waiters = new WaiterQueue(() => emptied++);
    void waiters.enqueue(new AbortController().signal);
    waiters.serve();
    assert.equal(emptied, 0);
  });

  test('WaiterQueue.refuse() - passes a live signal or none, refuses a bad or aborted one', async () => {
    assert.equal(WaiterQueue.refuse(undefined), undefined);
    assert.equal(WaiterQueue.refuse(new AbortController().signal), undefined);
    await assert.rejects(WaiterQueue.refuse(AbortSignal.abort()) as Promise<never>, {
      code: 'SLUICE_ERR_ABORTED',
    });
    await assert.rejects(WaiterQueue.refuse('stop' as unknown as AbortSignal) as Promise<never>, {
      code: 'SLUICE_ERR_INVALID_ARG_TYPE',
    });
  });
});
