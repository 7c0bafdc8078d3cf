import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import { TARGET_BATCH_MS } from '../../src/exec/pool/batch-sizer.js';
import { defineTask, isSluiceError, move, WorkerPool } from '../../src/index.js';
import type { Behaviour, Identity } from '../fixtures/tasks/behave.task.js';

const behave = new URL('../fixtures/tasks/behave.task.js', import.meta.url);
const spin = new URL('../fixtures/tasks/spin.task.js', import.meta.url);

describe('WorkerPool', () => {
  let pool: WorkerPool<Behaviour, unknown>;
  before(async () => {
    pool = new WorkerPool<Behaviour, unknown>(behave, { workers: 2 });
    await pool.ready();
  });
  after(() => pool.close());

  test('.run() - runs the task off the main thread and resolves with its result', async () => {
    const who = (await pool.run({ op: 'whoami' })) as Identity;
    assert.notEqual(who.thread, threadId);
    assert.equal(who.pid, process.pid);
    assert.equal(
      await pool.run({ op: 'echo', value: { a: [1, 2] } }).then((v) => JSON.stringify(v)),
      '{"a":[1,2]}',
    );
  });

  test('.run() - setup runs once per worker and its result reaches every call', async () => {
    const all = (await Promise.all(
      Array.from({ length: 50 }, () => pool.run({ op: 'whoami' })),
    )) as Identity[];
    for (const who of all) assert.equal(who.setups, 1, 'setup ran more than once in one worker');
  });

  test('.run() - a throwing task rejects with its error, code and fields intact', async () => {
    await assert.rejects(pool.run({ op: 'throw', message: 'bad record' }), (error: Error) => {
      assert.equal(error.message, 'bad record');
      assert.equal((error as Error & { code: string }).code, 'E_FIXTURE');
      assert.deepEqual((error as Error & { detail: unknown }).detail, { n: 1 });
      return true;
    });
    // The worker survives a task's throw.
    assert.equal(await pool.run({ op: 'echo', value: 1 }), 1);
  });

  test('.runMany() - resolves in input order', async () => {
    const values = Array.from({ length: 500 }, (_, i) => i);
    const out = await pool.runMany(values.map((value) => ({ op: 'echo', value }) as Behaviour));
    assert.deepEqual(out, values);
  });

  test('.execute() - one outcome per item: a failing item does not fail its neighbours', async () => {
    const outcome = await pool.execute({
      items: [
        { op: 'echo', value: 'a' },
        { op: 'throw', message: 'b failed' },
        { op: 'echo', value: 'c' },
      ],
      first: 10,
    });
    assert.equal(outcome.values[0], 'a');
    assert.equal(outcome.values[2], 'c');
    assert.equal((outcome.errors?.[1] as Error | undefined)?.message, 'b failed');
    assert.equal(outcome.errors?.[0], undefined);
  });

  test('.execute() - tasks see their index in the stage input and their attempt', async () => {
    const outcome = await pool.execute({
      items: [{ op: 'whoami' }, { op: 'whoami' }],
      first: 40,
      attempt: 3,
    });
    const [a, b] = outcome.values as Identity[];
    assert.equal(a?.index, 40);
    assert.equal(b?.index, 41);
    assert.equal(a?.attempt, 3);
  });

  test('move() - a moved buffer is detached on the sending side and arrives whole', async () => {
    const bytes = new Uint8Array(1024).fill(2);
    const sum = await pool.run(move({ op: 'sum-bytes', bytes } as Behaviour));
    assert.equal(sum, 2048);
    assert.equal(bytes.byteLength, 0, 'the buffer was copied, not moved');
  });

  test('move() - a task can move its result back', async () => {
    const result = (await pool.run({ op: 'make-bytes', length: 4096 })) as Uint8Array;
    assert.ok(result instanceof Uint8Array);
    assert.equal(result.length, 4096);
    assert.equal(result[4095], 1);
  });

  test('a SharedArrayBuffer is shared, not copied', async () => {
    const buffer = new SharedArrayBuffer(16);
    assert.equal(await pool.run({ op: 'fill', buffer }), 'filled');
    assert.deepEqual([...new Int32Array(buffer)], [7, 7, 7, 7]);
  });

  test('an item that cannot be cloned fails with SLUICE_ERR_DATA_CLONE naming it; the others run', async () => {
    const outcome = await pool.execute({
      items: [
        { op: 'echo', value: 1 },
        { op: 'echo', value: () => 2 },
        { op: 'echo', value: 3 },
      ] as Behaviour[],
      first: 0,
    });
    assert.deepEqual([outcome.values[0], outcome.values[2]], [1, 3]);
    const error = outcome.errors?.[1];
    assert.ok(isSluiceError(error, 'SLUICE_ERR_DATA_CLONE'), String(error));
    assert.equal((error as { index: number }).index, 1);
  });

  test('a result that cannot be cloned fails with SLUICE_ERR_DATA_CLONE; the worker lives on', async () => {
    await assert.rejects(pool.run({ op: 'uncloneable-result' }), { code: 'SLUICE_ERR_DATA_CLONE' });
    assert.equal(await pool.run({ op: 'echo', value: 'still here' }), 'still here');
  });

  test('.run() with a timeout - a task polling its signal sees the deadline inside a synchronous loop', async () => {
    const who = (await pool.run({ op: 'whoami' })) as Identity;
    const result = await pool.run({ op: 'poll', ms: 5_000 }, { timeout: 50 }).catch((error: Error) => error);
    // The task stopped on its own, so its late return counts as a timeout, and the worker is kept.
    assert.ok(isSluiceError(result, 'SLUICE_ERR_TIMEOUT'), String(result));
    const again = (await Promise.all(
      Array.from({ length: 8 }, () => pool.run({ op: 'whoami' })),
    )) as Identity[];
    assert.ok(
      again.some((w) => w.thread === who.thread) || again.every((w) => w.setups === 1),
      'a worker was replaced for a task that honoured its deadline',
    );
  });

  test('.run() with a signal - aborting reaches a running task, which stops; the worker is kept', async () => {
    const controller = new AbortController();
    const running = pool.run({ op: 'poll', ms: 10_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await assert.rejects(running, { code: 'SLUICE_ERR_ABORTED' });
    const all = (await Promise.all(
      Array.from({ length: 8 }, () => pool.run({ op: 'whoami' })),
    )) as Identity[];
    assert.ok(
      all.every((w) => w.setups === 1),
      'a worker was replaced',
    );
  });
});

describe('WorkerPool - micro-batching', () => {
  test('small tasks travel many to a message, large ones one at a time', async () => {
    const pool = new WorkerPool<number, number>(spin, { workers: 2 });
    try {
      await pool.runMany(Array.from({ length: 2_000 }, () => 0.001));
      const small = pool.batchSize;
      assert.ok(small >= 50, `batch size for ~1 us tasks was ${small}`);
      await pool.runMany(Array.from({ length: 8 }, () => 10));
      await pool.runMany(Array.from({ length: 8 }, () => 10));
      assert.equal(pool.batchSize, 1, 'a 10 ms task was batched');
    } finally {
      await pool.close();
    }
  });

  test('a long job sends larger messages, and the next short job goes back to TARGET_BATCH_MS of work a message', async () => {
    const pool = new WorkerPool<number, number>(spin, { workers: 2 });
    try {
      // About a second of 1 us items: half a second on each worker, far past BATCHES_AHEAD base batches.
      await pool.runMany(Array.from({ length: 1_000_000 }, () => 0.001));
      const grownMs = pool.batchSize * (pool.busyMsPerItem as number);
      assert.ok(
        grownMs > 2 * TARGET_BATCH_MS,
        `a long job's messages carried ${grownMs.toFixed(2)} ms of work`,
      );
      await pool.runMany(Array.from({ length: 2_000 }, () => 0.001));
      const shortMs = pool.batchSize * (pool.busyMsPerItem as number);
      assert.ok(
        shortMs <= TARGET_BATCH_MS * 1.01,
        `the short job after it sent ${shortMs.toFixed(2)} ms a message`,
      );
    } finally {
      await pool.close();
    }
  });

  test('run() calls made in one turn each settle when their own batch is back, not all at the end', async () => {
    const pool = new WorkerPool<number, number>(spin, { workers: 2 });
    try {
      await pool.runMany(Array.from({ length: 4 }, () => 10));
      await pool.runMany(Array.from({ length: 4 }, () => 10));
      assert.equal(pool.batchSize, 1);
      let settled = 0;
      const calls = Array.from({ length: 8 }, () =>
        pool.run(20).then(() => {
          settled++;
        }),
      );
      await Promise.race(calls);
      // One more turn of the loop: if every call had come back together, all would be settled now.
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(settled < 8, `all 8 calls settled together`);
      await Promise.all(calls);
      assert.equal(settled, 8);
    } finally {
      await pool.close();
    }
  });

  test('large tasks spread across every worker', async () => {
    const pool = new WorkerPool<number, number>(spin, { workers: 2 });
    try {
      await pool.ready();
      const threads = await pool.runMany(Array.from({ length: 8 }, () => 20));
      assert.equal(new Set(threads).size, 2);
    } finally {
      await pool.close();
    }
  });
});

describe('WorkerPool - bad input', () => {
  test('a task module that does not exist throws SLUICE_ERR_TASK_NOT_FOUND naming the path', () => {
    assert.throws(() => new WorkerPool(new URL('../fixtures/tasks/missing.task.js', import.meta.url)), {
      code: 'SLUICE_ERR_TASK_NOT_FOUND',
      message: /missing\.task\.js does not exist/,
    });
  });

  test('a module without a default task rejects with SLUICE_ERR_TASK_MODULE', async () => {
    const pool = new WorkerPool(new URL('../fixtures/tasks/no-default.task.js', import.meta.url), {
      workers: 1,
    });
    try {
      await assert.rejects(pool.run(1), { code: 'SLUICE_ERR_TASK_MODULE', message: /defineTask/ });
      await assert.rejects(pool.ready(), { code: 'SLUICE_ERR_TASK_MODULE' });
    } finally {
      await pool.close();
    }
  });

  test('a setup that throws rejects with SLUICE_ERR_TASK_SETUP, with its message', async () => {
    const pool = new WorkerPool(new URL('../fixtures/tasks/setup-throws.task.js', import.meta.url), {
      workers: 2,
    });
    try {
      await assert.rejects(pool.run(1), { code: 'SLUICE_ERR_TASK_SETUP', message: /no database here/ });
    } finally {
      await pool.close();
    }
  });

  test('bad options throw coded errors', () => {
    assert.throws(() => new WorkerPool(behave, { workers: 0 }), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
    assert.throws(() => new WorkerPool(behave, { isolation: 'fiber' as 'thread' }), {
      code: 'SLUICE_ERR_INVALID_ARG_TYPE',
    });
    assert.throws(() => new WorkerPool(behave, { threads: 2 } as object), {
      code: 'SLUICE_ERR_UNKNOWN_OPTION',
    });
    assert.throws(() => new WorkerPool(42 as unknown as string), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new WorkerPool(behave, { headStart: 'yes' as unknown as boolean }), {
      code: 'SLUICE_ERR_INVALID_ARG_TYPE',
    });
    assert.throws(() => new WorkerPool(behave, { maxCrashRetries: -1 }), {
      code: 'SLUICE_ERR_INVALID_ARG_VALUE',
    });
    assert.throws(() => new WorkerPool(behave, { deadlineGraceMs: Number.NaN }), {
      code: 'SLUICE_ERR_INVALID_ARG_VALUE',
    });
    assert.throws(() => new WorkerPool(behave, { resourceLimits: { maxOldGenerationSizeMb: 0 } }), {
      code: 'SLUICE_ERR_INVALID_ARG_VALUE',
    });
    assert.throws(() => new WorkerPool(behave, { resourceLimits: { heapMb: 64 } as object }), {
      code: 'SLUICE_ERR_UNKNOWN_OPTION',
    });
  });

  test('defineTask() - rejects a non-function and unknown options', () => {
    assert.throws(() => defineTask(42 as unknown as () => void), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
    assert.throws(() => defineTask(() => 1, { init: () => 1 } as object), {
      code: 'SLUICE_ERR_UNKNOWN_OPTION',
    });
  });

  test('.close() - pending and later requests reject with SLUICE_ERR_POOL_CLOSED', async () => {
    const pool = new WorkerPool<number, number>(spin, { workers: 1 });
    const pending = assert.rejects(pool.runMany([50, 50, 50]), { code: 'SLUICE_ERR_POOL_CLOSED' });
    await pool.close();
    await pending;
    await assert.rejects(pool.run(1), { code: 'SLUICE_ERR_POOL_CLOSED' });
  });
});
