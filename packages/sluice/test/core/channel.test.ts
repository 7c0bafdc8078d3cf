import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Channel, EMPTY } from '../../src/core/channel.js';
import { flushMicrotasks } from '../../src/core/fake-clock.js';

test('.tryPush() - accepts up to capacity, then refuses', () => {
  const channel = new Channel<number>(2);
  assert.equal(channel.tryPush(1), true);
  assert.equal(channel.tryPush(2), true);
  assert.equal(channel.tryPush(3), false);
  assert.equal(channel.size, 2);
});

test('.tryPull() - FIFO order across the ring wrap-around', () => {
  const channel = new Channel<number>(3);
  const out: number[] = [];
  for (let i = 0; i < 10; i++) {
    channel.tryPush(i);
    if (i % 2 === 1) {
      out.push(channel.tryPull() as number);
      out.push(channel.tryPull() as number);
    }
  }
  assert.deepEqual(out, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(channel.tryPull(), EMPTY);
});

test('.push() - waits while full and resumes when a consumer pulls (backpressure)', async () => {
  const channel = new Channel<number>(1);
  await channel.push(1);
  let pushed = false;
  const pending = channel.push(2).then(() => {
    pushed = true;
  });
  await flushMicrotasks();
  assert.equal(pushed, false);
  assert.equal(channel.tryPull(), 1);
  await pending;
  assert.equal(pushed, true);
  assert.equal(channel.tryPull(), 2);
});

test('.pull() - waits for a value, then sees the end after close', async () => {
  const channel = new Channel<string>(4);
  const first = channel.pull();
  channel.tryPush('a');
  assert.deepEqual(await first, { value: 'a', done: false });
  channel.tryPush('b');
  channel.close();
  assert.deepEqual(await channel.pull(), { value: 'b', done: false });
  assert.deepEqual(await channel.pull(), { value: undefined, done: true });
  assert.equal(channel.done, true);
});

test('.close() - pushing after close throws a coded error', async () => {
  const channel = new Channel<number>(1);
  channel.close();
  assert.throws(() => channel.tryPush(1), { code: 'SLUICE_ERR_CHANNEL_CLOSED' });
  await assert.rejects(channel.push(1), { code: 'SLUICE_ERR_CHANNEL_CLOSED' });
});

test('.fail() - rejects waiters on both ends and reports what it dropped: the buffered items, not a push still waiting', async () => {
  const full = new Channel<number>(1);
  full.tryPush(1);
  const blockedPush = full.push(2);
  const error = new Error('torn down');
  assert.equal(full.fail(error), 1);
  await assert.rejects(blockedPush, error);
  assert.throws(() => full.tryPull(), error);

  const empty = new Channel<number>(1);
  const blockedPull = empty.pull();
  const blockedReadable = empty.readable();
  empty.fail(error);
  await assert.rejects(blockedPull, error);
  await assert.rejects(blockedReadable, error);
});

test('.writable() - resolves only once the buffer drained to the low-water mark', async () => {
  const channel = new Channel<number>(4);
  for (let i = 0; i < 4; i++) channel.tryPush(i);
  let woke = false;
  const wait = channel.writable().then(() => {
    woke = true;
  });
  channel.tryPull();
  await flushMicrotasks();
  assert.equal(woke, false, 'one free slot is not enough to wake the producer');
  channel.tryPull();
  await wait;
  assert.equal(woke, true);
});

test('.readable() - resolves true on a push and false on close', async () => {
  const channel = new Channel<number>(2);
  const waiting = channel.readable();
  channel.tryPush(7);
  assert.equal(await waiting, true);
  channel.tryPull();
  const ending = channel.readable();
  channel.close();
  assert.equal(await ending, false);
});

test('async iteration drains everything pushed before close', async () => {
  const channel = new Channel<number>(2);
  const producer = (async () => {
    for (let i = 0; i < 20; i++) await channel.push(i);
    channel.close();
  })();
  const seen: number[] = [];
  for await (const value of channel) seen.push(value);
  await producer;
  assert.deepEqual(
    seen,
    Array.from({ length: 20 }, (_, i) => i),
  );
});

test('bad capacity is a coded RangeError or TypeError', () => {
  assert.throws(() => new Channel(0), { code: 'SLUICE_ERR_INVALID_ARG_VALUE', name: 'InvalidArgValueError' });
  assert.throws(() => new Channel(Number.NaN), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
  assert.throws(() => new Channel('8' as unknown as number), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
});
