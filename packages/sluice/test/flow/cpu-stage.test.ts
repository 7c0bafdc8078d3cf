import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { threadId } from 'node:worker_threads';
import { MAX_BATCH_SIZE } from '../../src/exec/pool/batch-sizer.js';
import { HELD_ITEMS } from '../../src/flow/pool-stage.js';
import { cpu, flow, isSluiceError, type StageReport, WorkerPool } from '../../src/index.js';
import type { Behaviour, Identity } from '../fixtures/tasks/behave.task.js';

const behave = new URL('../fixtures/tasks/behave.task.js', import.meta.url);
const square = new URL('../fixtures/tasks/square.task.js', import.meta.url);

interface Squared {
  n: number;
  square: number;
  index: number;
  worker: number;
}

function assertAddsUp(stage: StageReport | undefined): void {
  assert.ok(stage);
  const settled =
    stage.emitted + stage.filtered + stage.skipped + stage.deadLettered + stage.failed + stage.cancelled;
  assert.equal(settled, stage.entered, `counts do not add up: ${JSON.stringify(stage)}`);
}

describe('map(cpu(url))', () => {
  let pool: WorkerPool<Behaviour, unknown>;
  const task = (): ReturnType<typeof cpu<Behaviour, unknown>> => cpu<Behaviour, unknown>(behave, { pool });
  before(async () => {
    pool = new WorkerPool<Behaviour, unknown>(behave, { workers: 2 });
    await pool.ready();
  });
  after(() => pool.close());

  test('computes every item off the main thread, on every worker, and emits in input order', async () => {
    const numbers = Array.from({ length: 3_000 }, (_, i) => i);
    // Started beforehand: a run's own pool sends work to whichever worker is ready first, and tiny
    // tasks may all be done before the second has loaded.
    const squares = new WorkerPool<number, Squared>(square, { workers: 2 });
    await squares.ready();
    const out = await flow(numbers)
      .map(cpu<number, Squared>(square, { pool: squares }))
      .collect()
      .finally(() => squares.close());
    assert.deepEqual(
      out.map((o) => o.square),
      numbers.map((n) => n * n),
    );
    assert.deepEqual(
      out.map((o) => o.index),
      numbers,
    );
    const workers = new Set(out.map((o) => o.worker));
    assert.ok(!workers.has(threadId), 'the main thread ran a cpu() step');
    assert.equal(workers.size, 2);
  });

  test('the report names the stage after the module, as a cpu stage, and its counts add up', async () => {
    const report = await flow([1, 2, 3])
      .map(cpu<number, Squared>(square, { workers: 1 }))
      .run();
    const [stage] = report.stages;
    assert.equal(stage?.name, 'square');
    assert.equal(stage?.kind, 'cpu');
    assert.equal(stage?.emitted, 3);
    assertAddsUp(stage);
  });

  test('ordered: false emits every item as batches finish', async () => {
    const items = Array.from({ length: 200 }, (_, value) => ({ op: 'echo', value }) as Behaviour);
    const out = await flow(items).map(task(), { ordered: false }).collect();
    assert.deepEqual(
      [...(out as number[])].sort((a, b) => a - b),
      items.map((_, i) => i),
    );
  });

  for (const ordered of [true, false]) {
    test(`a stage whose output waits stops taking items: it holds at most HELD_ITEMS (ordered: ${ordered})`, async () => {
      const total = 200_000;
      let pulled = 0;
      function* numbers(): Generator<number> {
        for (let i = 0; i < total; i++) {
          pulled++;
          yield i;
        }
      }
      const squares = new WorkerPool<number, Squared>(square, { workers: 2 });
      await squares.ready();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let seen = 0;
      const run = flow(numbers())
        .map(cpu<number, Squared>(square, { pool: squares }), { ordered })
        .forEach(async () => {
          if (seen++ === 0) await gate;
        })
        .run()
        .finally(() => squares.close());
      // Wait until the stage has stopped taking: the count holds still for a while.
      let last = -1;
      for (let still = 0; still < 10; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        still = pulled === last ? still + 1 : 0;
        last = pulled;
      }
      // What the stage holds, its output buffer (256 by default) and one batch being taken.
      const bound = HELD_ITEMS + 256 + MAX_BATCH_SIZE + 64;
      assert.ok(pulled < bound, `pulled ${pulled} items while the consumer waited (bound ${bound})`);
      release();
      const report = await run;
      assert.equal(report.stages[0]?.emitted, total);
      assertAddsUp(report.stages[0]);
    });
  }

  test('joins IO and CPU stages in one pipeline from an async source', async () => {
    async function* source(): AsyncGenerator<number> {
      for (let i = 0; i < 100; i++) yield i;
    }
    const total = await flow(source())
      .map(async (value) => ({ op: 'echo', value }) as Behaviour, { concurrency: 8 })
      .map(task())
      .batch({ size: 10 })
      .reduce((sum, batch) => sum + (batch as number[]).reduce((a, b) => a + b, 0), 0);
    assert.equal(total, 4950);
  });

  test('a task that throws fails the run with SLUICE_ERR_STAGE naming the stage and the item', async () => {
    const items: Behaviour[] = [
      { op: 'echo', value: 0 },
      { op: 'throw', message: 'bad row' },
      { op: 'echo', value: 2 },
    ];
    const error = await flow(items)
      .map(task(), { name: 'normalize' })
      .run()
      .catch((e: unknown) => e);
    assert.ok(isSluiceError(error, 'SLUICE_ERR_STAGE'), String(error));
    assert.match((error as Error).message, /Stage "normalize" failed on item 1: bad row/);
    assert.equal((error as { index: number }).index, 1);
    assertAddsUp((error as unknown as { report: { stages: StageReport[] } }).report.stages[0]);
  });

  test("onError: 'skip' and dead letters count each failed item", async () => {
    const items: Behaviour[] = [
      { op: 'throw', message: 'a' },
      { op: 'echo', value: 1 },
      { op: 'throw', message: 'b' },
    ];
    const skipped = await flow(items).map(task(), { onError: 'skip' }).run();
    assert.equal(skipped.stages[0]?.skipped, 2);
    assert.equal(skipped.stages[0]?.emitted, 1);
    const dead: { index: number; message: string }[] = [];
    const report = await flow(items)
      .map(task(), {
        onError: (_item, error, { index }) => dead.push({ index, message: (error as Error).message }),
      })
      .run();
    assert.deepEqual(dead, [
      { index: 0, message: 'a' },
      { index: 2, message: 'b' },
    ]);
    assert.equal(report.stages[0]?.deadLettered, 2);
    assertAddsUp(report.stages[0]);
  });

  test('retry: a failed item is tried again, and the task sees its attempt', async () => {
    const report = await flow<Behaviour>([
      { op: 'flaky', failures: 2 },
      { op: 'echo', value: 'x' },
    ])
      .map(task(), { retry: { attempts: 3, baseDelayMs: 1 } })
      .collect();
    assert.deepEqual(report, [3, 'x']);
  });

  test('timeout: a task that overruns fails with SLUICE_ERR_TIMEOUT, counted in the report', async () => {
    const error = await flow<Behaviour>([{ op: 'poll', ms: 5_000 }])
      .map(task(), { timeout: 30 })
      .run()
      .catch((e: unknown) => e);
    assert.ok(isSluiceError(error, 'SLUICE_ERR_STAGE'), String(error));
    assert.ok(isSluiceError((error as Error).cause, 'SLUICE_ERR_TIMEOUT'));
    assert.equal((error as unknown as { report: { stages: StageReport[] } }).report.stages[0]?.timeouts, 1);
  });

  test('aborting the run reaches the task through its signal; a shared pool keeps its workers', async () => {
    const before = (await pool.run({ op: 'whoami' })) as Identity;
    const controller = new AbortController();
    const running = flow<Behaviour>([{ op: 'poll', ms: 30_000 }])
      .map(task())
      .run({ signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(running, { code: 'SLUICE_ERR_ABORTED' });
    const all = (await Promise.all(
      Array.from({ length: 6 }, () => pool.run({ op: 'whoami' })),
    )) as Identity[];
    assert.ok(all.every((who) => who.setups === 1));
    assert.ok(all.some((who) => who.thread === before.thread));
    assert.equal(pool.size, 2);
  });

  test('a run that owns its pool leaves no worker behind when it fails: the process exits', async () => {
    const fixture = fileURLToPath(new URL('../fixtures/failing-cpu-flow.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], {
      timeout: 30_000,
    });
    assert.equal(stdout.trim(), 'SLUICE_ERR_ABORTED');
  });
});

describe('map(cpu(url)) - bad input', () => {
  test('a task module that does not exist throws SLUICE_ERR_TASK_NOT_FOUND naming the stage', () => {
    const missing = cpu<number, number>(new URL('../fixtures/tasks/nowhere.task.js', import.meta.url));
    assert.throws(() => flow([1]).map(missing), {
      code: 'SLUICE_ERR_TASK_NOT_FOUND',
      message: /Stage "nowhere": the task module .*nowhere\.task\.js does not exist/,
    });
  });

  test('a module without a default task fails the run with a coded error naming the stage', async () => {
    const error = await flow([1])
      .map(
        cpu<number, number>(new URL('../fixtures/tasks/no-default.task.js', import.meta.url), { workers: 1 }),
      )
      .run()
      .catch((e: unknown) => e);
    assert.ok(isSluiceError(error, 'SLUICE_ERR_STAGE'), String(error));
    assert.match((error as Error).message, /Stage "no-default" cannot run its task/);
    assert.ok(isSluiceError((error as Error).cause, 'SLUICE_ERR_TASK_MODULE'));
  });

  test('an item that cannot be cloned fails naming the stage and the item', async () => {
    const error = await flow<Behaviour>([
      { op: 'echo', value: 1 },
      { op: 'echo', value: Symbol('no') },
    ])
      .map(cpu<Behaviour, unknown>(behave, { workers: 1 }), { name: 'send' })
      .run()
      .catch((e: unknown) => e);
    assert.ok(isSluiceError(error, 'SLUICE_ERR_STAGE'), String(error));
    assert.match((error as Error).message, /Stage "send" failed on item 1/);
    assert.ok(isSluiceError((error as Error).cause, 'SLUICE_ERR_DATA_CLONE'));
  });

  test('options a pool decides for itself are refused with SLUICE_ERR_UNKNOWN_OPTION', () => {
    const task = cpu<number, Squared>(square);
    assert.throws(() => flow([1]).map(task, { concurrency: 4 } as object), {
      code: 'SLUICE_ERR_UNKNOWN_OPTION',
    });
    assert.throws(() => flow([1]).map(task, { rateLimit: { perSecond: 1 } } as object), {
      code: 'SLUICE_ERR_UNKNOWN_OPTION',
    });
    assert.throws(() => cpu(square, { pool: {} as WorkerPool }), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
    assert.throws(() => flow([1]).map(task, { timeout: 0 }), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
    assert.throws(() => flow([1]).map(task, { ordered: 'yes' as unknown as boolean }), {
      code: 'SLUICE_ERR_INVALID_ARG_TYPE',
    });
    assert.throws(() => cpu(square, { workers: 1.5 }), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
    assert.throws(() => cpu(7 as unknown as string), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
  });
});
