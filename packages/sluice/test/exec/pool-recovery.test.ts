import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isSluiceError, WorkerPool } from '../../src/index.js';
import type { Behaviour, Identity } from '../fixtures/tasks/behave.task.js';

const behave = new URL('../fixtures/tasks/behave.task.js', import.meta.url);

/** Every way a worker can die, for threads and for processes: the pool replaces it and never hangs. */
for (const isolation of ['thread', 'process'] as const) {
  describe(`WorkerPool - recovery (${isolation})`, () => {
    test('a worker that calls process.exit is replaced; its neighbours are retried and succeed', async () => {
      const pool = new WorkerPool<Behaviour, unknown>(behave, { workers: 2, isolation, maxCrashRetries: 1 });
      try {
        await pool.ready();
        const items: Behaviour[] = [
          ...Array.from({ length: 20 }, (_, i) => ({ op: 'echo', value: i }) as Behaviour),
          { op: 'exit' },
          ...Array.from({ length: 20 }, (_, i) => ({ op: 'echo', value: 20 + i }) as Behaviour),
        ];
        const outcome = await pool.execute({ items, first: 0 });
        const error = outcome.errors?.[20];
        assert.ok(isSluiceError(error, 'SLUICE_ERR_WORKER_CRASHED'), String(error));
        assert.equal((error as { index: number }).index, 20);
        assert.match((error as Error).message, /Item 20 crashed its worker 2 times/);
        assert.deepEqual(outcome.errors?.filter((e) => e !== undefined).length, 1);
        assert.deepEqual(
          outcome.values.filter((_, i) => i !== 20),
          Array.from({ length: 40 }, (_, i) => i),
        );
        // The pool is whole again.
        assert.equal(pool.size, 2);
        assert.equal(await pool.run({ op: 'echo', value: 'after' }), 'after');
      } finally {
        await pool.close();
      }
    });

    test('a task that ignores its deadline past the grace period has its worker replaced', async () => {
      const pool = new WorkerPool<Behaviour, unknown>(behave, {
        workers: 1,
        isolation,
        deadlineGraceMs: 100,
      });
      try {
        const before = (await pool.run({ op: 'whoami' })) as Identity;
        const result = await pool.run({ op: 'spin', ms: 60_000 }, { timeout: 50 }).catch((e: Error) => e);
        assert.ok(isSluiceError(result, 'SLUICE_ERR_TIMEOUT'), String(result));
        assert.match((result as Error).message, /worker was replaced/);
        const afterwards = (await pool.run({ op: 'whoami' })) as Identity;
        assert.notDeepEqual([afterwards.thread, afterwards.pid], [before.thread, before.pid]);
      } finally {
        await pool.close();
      }
    });
  });
}

describe('WorkerPool - recovery (thread only)', () => {
  test('an item that crashed its worker once succeeds on a fresh one', async () => {
    const pool = new WorkerPool<Behaviour, unknown>(behave, { workers: 1 });
    try {
      // The marker counts runs across workers: shared memory, which only threads have.
      const marker = new SharedArrayBuffer(4);
      assert.equal(await pool.run({ op: 'crash-once', marker }), 'survived');
      assert.equal(new Int32Array(marker)[0], 2);
    } finally {
      await pool.close();
    }
  });

  test('an error thrown outside any task kills the worker; it is replaced and the pool carries on', async () => {
    const pool = new WorkerPool<Behaviour, unknown>(behave, { workers: 1, maxCrashRetries: 0 });
    try {
      const result = await pool.run({ op: 'throw-outside' }).catch((e: Error) => e);
      assert.ok(isSluiceError(result, 'SLUICE_ERR_WORKER_CRASHED'), String(result));
      assert.match((result as Error).message, /thrown outside any task/);
      assert.equal(await pool.run({ op: 'echo', value: 'next' }), 'next');
    } finally {
      await pool.close();
    }
  });

  test('a worker that runs out of memory (resourceLimits) is replaced; the item fails after its retries', async () => {
    const pool = new WorkerPool<Behaviour, unknown>(behave, {
      workers: 1,
      maxCrashRetries: 1,
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
    });
    try {
      const result = await pool.run({ op: 'oom' }).catch((e: Error) => e);
      assert.ok(isSluiceError(result, 'SLUICE_ERR_WORKER_CRASHED'), String(result));
      assert.match((result as Error).message, /memory/i);
      assert.equal(await pool.run({ op: 'echo', value: 'fine' }), 'fine');
    } finally {
      await pool.close();
    }
  });
});
