import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { threadId } from 'node:worker_threads';
import { FakeClock } from '../../src/core/fake-clock.js';
import { cpu, flow, isSluiceError, processes, threads } from '../../src/index.js';
import type { Ran } from '../fixtures/tasks/gated.task.js';
import { WorkerGate } from '../helpers/worker-gate.js';

/** Spins for the item's milliseconds, then answers with the worker's threadId. */
const spin = new URL('../fixtures/tasks/spin.task.js', import.meta.url);
const gated = new URL('../fixtures/tasks/gated.task.js', import.meta.url);
const exitScript = fileURLToPath(new URL('../fixtures/warm-pool-exit.ts', import.meta.url));

/**
 * The worker threads one run used. Each test gives its pools a clock of its own: parked pools are
 * kept per clock, so tests never take each other's. No head start: the items must run on workers,
 * whose threadIds tell one pool from another.
 */
async function threadsOf(
  clock: FakeClock,
  options: { keepWarmMs?: number } = {},
  items = [0, 0],
): Promise<number[]> {
  const ids = await flow(items)
    .map(cpu<number, number>(spin, { workers: 1, headStart: false, clock, ...options }))
    .collect();
  return [...new Set(ids)];
}

describe('pools kept warm between runs', () => {
  test('a second run of the same task takes the workers the first run left warm', async () => {
    const clock = new FakeClock();
    const [first] = await threadsOf(clock);
    // A new cpu() and a new flow, as a program that builds its flow per call does.
    assert.deepEqual(await threadsOf(clock), [first]);
  });

  test('a run that ends before its workers are ready leaves them starting for the next run', async () => {
    const clock = new FakeClock();
    const workers = new WorkerGate();
    try {
      const stage = () => cpu<number, Ran>(gated, { workers: 1, headStart: true, keepWarmMs: 1000, clock });
      // The worker is held at its gate: the calling thread runs the whole first job.
      const first = await flow([1, 2]).map(stage()).collect();
      assert.deepEqual(
        first.map((ran) => ran.thread),
        [threadId, threadId],
      );
      // The pool waits, parked, for the next run: its idle timer is the clock's one pending timer.
      assert.equal(clock.pending, 1);
      workers.open();
      const [second] = await flow([3]).map(stage()).collect();
      assert.equal(second?.value, 6);
      // The second run took that pool and parked it again: one pool, one timer, not two.
      assert.equal(clock.pending, 1);
    } finally {
      workers.close();
      await clock.runAll();
    }
  });

  test('a run stopped while the calling thread had a slice scheduled for it hands its pool on', async () => {
    const clock = new FakeClock();
    const workers = new WorkerGate();
    const controller = new AbortController();
    try {
      // The worker is held at its gate: the calling thread runs items in slices. The run stops at
      // its first result, when the next slice is already scheduled; the cancelled requests leave
      // it nothing to run, and nothing else holds the pool.
      const stopped = flow(Array.from({ length: 100 }, (_, i) => i))
        .map(cpu<number, Ran>(gated, { workers: 1, headStart: true, keepWarmMs: 1000, clock }))
        .forEach(() => controller.abort())
        .run({ signal: controller.signal });
      await assert.rejects(stopped, (error) => isSluiceError(error));
      // Parked, not closed: its idle timer is the clock's one pending timer.
      assert.equal(clock.pending, 1);
    } finally {
      workers.close();
      await clock.runAll();
    }
  });

  test('keepWarmMs: 0 - every run starts and closes its own workers', async () => {
    const clock = new FakeClock();
    const [first] = await threadsOf(clock, { keepWarmMs: 0 });
    const [second] = await threadsOf(clock, { keepWarmMs: 0 });
    assert.notEqual(second, first);
  });

  test('an idle pool closes once keepWarmMs have passed on its clock, and not before', async () => {
    const clock = new FakeClock();
    const [first] = await threadsOf(clock, { keepWarmMs: 1000 });
    await clock.advance(999);
    // Taken again just in time; parked again, its idle time starts over.
    assert.deepEqual(await threadsOf(clock, { keepWarmMs: 1000 }), [first]);
    await clock.advance(1000);
    assert.equal(clock.pending, 0);
    const [later] = await threadsOf(clock, { keepWarmMs: 1000 });
    assert.notEqual(later, first);
  });

  test('pools with other options are not shared', async () => {
    const clock = new FakeClock();
    const [first] = await threadsOf(clock);
    const [other] = await flow([0])
      .map(cpu<number, number>(spin, { workers: 1, headStart: false, clock, maxCrashRetries: 5 }))
      .collect();
    assert.notEqual(other, first);
  });

  test('two runs side by side get a pool each, and both are kept warm', async () => {
    const clock = new FakeClock();
    const firstPair = await Promise.all([threadsOf(clock, {}, [30]), threadsOf(clock, {}, [30])]);
    const [a, b] = firstPair.flat();
    assert.notEqual(a, b);
    const secondPair = await Promise.all([threadsOf(clock, {}, [30]), threadsOf(clock, {}, [30])]);
    assert.deepEqual(secondPair.flat().sort(), [a, b].sort());
  });

  test('a run stopped with an item still running closes its pool instead of handing it on', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const seen: number[] = [];
    // The first item comes back alone (the pool knows nothing of the task yet); the second keeps
    // the worker busy for a minute, ignoring its signal, when the run is stopped.
    const stopped = flow([0, 60_000])
      .map(cpu<number, number>(spin, { workers: 1, headStart: false, clock }))
      .forEach((id) => {
        seen.push(id);
        controller.abort();
      })
      .run({ signal: controller.signal });
    await assert.rejects(stopped, (error) => isSluiceError(error));
    const [next] = await threadsOf(clock);
    assert.equal(seen.length, 1);
    assert.notEqual(next, seen[0]);
  });

  test('threads() and processes() refuse a keepWarmMs that is not a number >= 0', () => {
    for (const make of [threads, processes] as const) {
      assert.throws(
        () => make({ keepWarmMs: -1 }),
        (error) => isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_VALUE') && /keepWarmMs/.test(error.message),
      );
      assert.throws(
        () => make({ keepWarmMs: '5s' as unknown as number }),
        (error) => isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_TYPE') && /keepWarmMs/.test(error.message),
      );
    }
  });

  test('cpu() refuses keepWarmMs beside an executor of its own', () => {
    assert.throws(
      () => cpu(spin, { executor: threads(), keepWarmMs: 10 }),
      (error) => isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_VALUE') && /keepWarmMs/.test(error.message),
    );
  });

  test('a process whose flows left a pool warm exits on its own', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, exitScript], {
      // A hang guard, not a timing assertion: a pool that holds the process open never lets it exit.
      timeout: 30_000,
      killSignal: 'SIGKILL',
      env: process.env,
    });
    assert.deepEqual(JSON.parse(stdout), { threads: 1 });
  });
});
