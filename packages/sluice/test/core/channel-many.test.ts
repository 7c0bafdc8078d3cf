import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Channel, EMPTY } from '../../src/core/channel.js';

test('tryPushMany buffers what fits, in order, and says where it stopped', () => {
  const channel = new Channel<number>(4);
  assert.equal(channel.tryPushMany([1, 2, 3, 4, 5, 6], 1), 5);
  assert.deepEqual(channel.tryPullMany(10), [2, 3, 4, 5]);
  assert.equal(channel.tryPull(), EMPTY);
});

test('tryPushMany hands values to waiting consumers first, then wakes a reader', async () => {
  const channel = new Channel<number>(2);
  const waiting = channel.pull();
  const readable = channel.readable();
  assert.equal(channel.tryPushMany([7, 8, 9, 10]), 3);
  assert.deepEqual(await waiting, { value: 7, done: false });
  assert.equal(await readable, true);
  assert.deepEqual(channel.tryPullMany(5), [8, 9]);
});

test('tryPullMany wraps around the ring and frees every slot for blocked producers, in order', async () => {
  const channel = new Channel<number>(3);
  channel.tryPushMany([1, 2]);
  assert.deepEqual(channel.tryPullMany(1), [1]);
  channel.tryPushMany([3, 4]);
  const pushed = [channel.push(5), channel.push(6)];
  assert.deepEqual(channel.tryPullMany(3), [2, 3, 4]);
  await Promise.all(pushed);
  assert.deepEqual(channel.tryPullMany(3), [5, 6]);
});

test('tryPullMany on a closed channel ends it: readers see the end, writers were refused', async () => {
  const channel = new Channel<number>(4);
  channel.tryPushMany([1, 2]);
  channel.close();
  assert.throws(() => channel.tryPushMany([3]), { code: 'SLUICE_ERR_CHANNEL_CLOSED' });
  assert.deepEqual(channel.tryPullMany(10), [1, 2]);
  assert.equal(channel.done, true);
  assert.equal(await channel.readable(), false);
});

test('a blocked writer waiting for room is released once tryPullMany drains to the low-water mark', async () => {
  const channel = new Channel<number>(4);
  channel.tryPushMany([1, 2, 3, 4]);
  let released = false;
  const writable = channel.writable().then(() => {
    released = true;
  });
  channel.tryPullMany(1);
  await Promise.resolve();
  assert.equal(released, false);
  channel.tryPullMany(2);
  await writable;
  assert.equal(released, true);
});

test('bad arguments to tryPushMany and tryPullMany throw coded errors and move nothing', () => {
  const channel = new Channel<number>(4);
  assert.throws(() => channel.tryPushMany('abc' as unknown as number[]), {
    code: 'SLUICE_ERR_INVALID_ARG_TYPE',
  });
  assert.throws(() => channel.tryPushMany([1, 2], 3), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
  assert.throws(() => channel.tryPushMany([1, 2], 0, 5), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
  assert.throws(() => channel.tryPushMany([1, 2], -1), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
  assert.equal(channel.size, 0);
  channel.tryPushMany([1, 2]);
  assert.throws(() => channel.tryPullMany(-1), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
  assert.throws(() => channel.tryPullMany(1.5), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
  assert.throws(() => channel.tryPullMany('2' as unknown as number), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
  assert.equal(channel.size, 2);
  assert.deepEqual(channel.tryPullMany(Number.POSITIVE_INFINITY), [1, 2]);
});
