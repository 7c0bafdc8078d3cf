import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import fc from 'fast-check';
import type { Clock } from '../../src/core/clock.js';
import { FakeClock } from '../../src/core/fake-clock.js';
import { HEAD_START_LOAD_MS, WORKERS_STARTING_MS } from '../../src/exec/pool/dispatcher.js';
import { WARM_MS } from '../../src/exec/pool/worker-plan.js';
import { cpu, flow, isSluiceError, WorkerPool } from '../../src/index.js';
import type { GatedItem, Ran } from '../fixtures/tasks/gated.task.js';
import type { Step } from '../fixtures/tasks/steps.task.js';
import { taskTime } from '../fixtures/tasks/task-time.js';
import { seeded } from '../helpers/simulated-service.js';
import { WorkerGate } from '../helpers/worker-gate.js';

const gated = new URL('../fixtures/tasks/gated.task.js', import.meta.url);
const mainWaits = new URL('../fixtures/tasks/main-waits.task.js', import.meta.url);
/** Spins for the item's milliseconds: a task whose cost per item the test sets. */
const spin = new URL('../fixtures/tasks/spin.task.js', import.meta.url);
const gatedSetup = new URL('../fixtures/tasks/gated-setup.task.js', import.meta.url);
const steps = new URL('../fixtures/tasks/steps.task.js', import.meta.url);
/** Spends the item's milliseconds of `taskTime`: a cost per item the pool measures exactly. */
const spend = new URL('../fixtures/tasks/spend.task.js', import.meta.url);

/**
 * Runs `body` with a 2-worker pool of the `spend` task timed on task time, then closes it. On a
 * loaded machine one preempted 1 ms item reads as 9 ms and makes a 100 ms job look like 900 ms;
 * on task time an item costs exactly what the test says. The module is loaded here first, so the
 * head start's own import is not raced by HEAD_START_LOAD_MS.
 */
async function onTaskTime(body: (pool: WorkerPool<number, number>) => Promise<void>): Promise<void> {
  await import(spend.href);
  const pool = new WorkerPool<number, number>(spend, { workers: 2, clock: taskTime });
  try {
    await body(pool);
  } finally {
    await pool.close();
  }
}

/** Lets the event loop run `turns` times: enough for anything that was going to happen now. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Asserts that an item of `pool` waits for a worker: unsettled until `open()`, then run off this thread. */
async function waitsForWorkers(
  pool: WorkerPool<number, { thread: number }>,
  open: () => void,
): Promise<void> {
  try {
    let settled = false;
    const result = pool.run(1).finally(() => {
      settled = true;
    });
    await turns(50);
    assert.equal(settled, false);
    open();
    assert.notEqual((await result).thread, threadId);
  } finally {
    await pool.close();
  }
}

/** Loads of the `loads` task module at `url` on this thread. */
function loadsOf(url: URL): number {
  const loads = (globalThis as Record<symbol, Record<string, number> | undefined>)[
    Symbol.for('sluice.test.task-loads')
  ];
  return loads?.[url.search] ?? 0;
}

/** Waits until `done()` holds, polling every millisecond; fails after 10 s. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !done(); waited++) {
    if (waited > 10_000) assert.fail(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('cpu(url): naming a stage starts loading its task for the head start', () => {
  const loads = (name: string) => new URL(`../fixtures/tasks/loads.task.js?${name}`, import.meta.url);

  test('the task module is loaded on the calling thread once the program waits, before any run', async () => {
    const url = loads('named');
    cpu(url);
    assert.equal(loadsOf(url), 0, 'loaded before the program waited on anything');
    await until(() => loadsOf(url) === 1, 'the module to load');
    // The run's head start takes the module as it is: loaded once on this thread.
    assert.deepEqual(
      await flow([1, 2, 3])
        .map(cpu<number, number>(url, { workers: 1 }))
        .collect(),
      [1, 2, 3],
    );
    assert.equal(loadsOf(url), 1);
  });

  test('not where no head start runs: headStart: false, child processes, resource limits, a pool or executor given', async () => {
    const off = {
      noHeadStart: loads('no-head-start'),
      processes: loads('processes'),
      limits: loads('limits'),
    };
    cpu(off.noHeadStart, { headStart: false });
    cpu(off.processes, { isolation: 'process' });
    cpu(off.limits, { resourceLimits: { maxOldGenerationSizeMb: 64 } });
    // Named at the same time, a stage that loads: once it has, the others would have too.
    const control = loads('control');
    cpu(control);
    await until(() => loadsOf(control) === 1, 'the control module to load');
    await turns(20);
    assert.deepEqual(
      Object.entries(off).map(([name, url]) => [name, loadsOf(url)]),
      Object.keys(off).map((name) => [name, 0]),
    );
  });

  test('a task module that does not exist still fails where the stage is written', () => {
    const missing = new URL('../fixtures/tasks/no-such.task.js', import.meta.url);
    const stage = cpu<number, number>(missing);
    assert.throws(
      () => flow([1]).map(stage),
      (error) => isSluiceError(error, 'SLUICE_ERR_TASK_NOT_FOUND'),
    );
  });
});

describe('head start: the calling thread runs items while the workers start', () => {
  let workers: WorkerGate;
  beforeEach(() => {
    workers = new WorkerGate();
  });
  afterEach(() => workers.close());

  test('.run() - items run on the calling thread until the workers are ready, then on the workers', async () => {
    const pool = new WorkerPool<GatedItem, Ran>(gated, { workers: 2, headStart: true, clock: taskTime });
    try {
      const early = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(i)));
      assert.deepEqual(
        early.map((r) => r.value),
        Array.from({ length: 20 }, (_, i) => i * 2),
      );
      for (const ran of early) assert.equal(ran.thread, threadId, 'ran before any worker was ready');
      workers.open();
      await pool.ready();
      const late = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(i)));
      for (const ran of late) assert.notEqual(ran.thread, threadId, 'ran on the calling thread after ready');
      assert.equal(pool.size, 2);
    } finally {
      await pool.close();
    }
  });

  test('.run() - on by default: an item runs on the calling thread while the workers start', async () => {
    const pool = new WorkerPool<GatedItem, Ran>(gated, { workers: 2, clock: taskTime });
    try {
      assert.equal((await pool.run(1)).thread, threadId);
    } finally {
      await pool.close();
    }
  });

  test('a task that calls process.exit() on the calling thread does not end the program: that item and the rest go to the workers', async () => {
    const pool = new WorkerPool<GatedItem, Ran>(gated, { workers: 2, clock: taskTime });
    try {
      const first = await pool.run(1);
      assert.equal(first.thread, threadId, 'the head start was not running');
      const job = pool.runMany([2, { op: 'exit-on-main' }, 3]);
      let settled = false;
      void job.finally(() => {
        settled = true;
      });
      await turns(50);
      assert.equal(settled, false, 'the rest of the job waits for the workers');
      workers.open();
      const ran = await job;
      assert.deepEqual(
        ran.map((r) => r.value),
        [4, -1, 6],
      );
      assert.equal(ran[0]?.thread, threadId, 'the item before it ran on the calling thread');
      assert.notEqual(ran[1]?.thread, threadId);
      assert.notEqual(ran[2]?.thread, threadId);
      assert.notEqual((await pool.run(4)).thread, threadId, 'the head start went on after the exit');
      assert.equal(process.exitCode, undefined);
    } finally {
      await pool.close();
    }
  });

  test('.run() - with headStart: false nothing runs until a worker is ready', async () => {
    await waitsForWorkers(new WorkerPool<number, Ran>(gated, { workers: 2, headStart: false }), () =>
      workers.open(),
    );
  });

  test('a job the calling thread finishes in a few milliseconds starts no worker; ready() starts them all', async () => {
    const pool = new WorkerPool<GatedItem, Ran>(gated, { workers: 2, clock: taskTime });
    try {
      const ran = await pool.runMany(Array.from({ length: 20 }, (_, i) => i));
      assert.ok(ran.every((r) => r.thread === threadId));
      assert.equal(pool.size, 0);
      workers.open();
      await pool.ready();
      assert.equal(pool.size, 2);
    } finally {
      await pool.close();
    }
  });

  test('cpu() - a job of about 100 ms starts all workers but one, beside the calling thread', async () => {
    await onTaskTime(async (pool) => {
      let sizeAtFirst: number | undefined;
      // 100 items of 1 ms: past SOLO_MS, well short of FULL_POOL_MS.
      const threads = await flow(Array.from({ length: 100 }, () => 1))
        .map(cpu<number, number>(spend, { pool }))
        .tap(() => {
          sizeAtFirst ??= pool.size;
        })
        .collect();
      assert.equal(sizeAtFirst, 1);
      assert.ok(threads.includes(threadId), 'no item ran on the calling thread');
    });
  });

  test('cpu() - a long job over an array starts every worker once WARM_MS of items were timed: the stage says how much is left', async () => {
    await onTaskTime(async (pool) => {
      const sizes: number[] = [];
      // 200 items of 3 ms, most of them still in the source when the first items come back; the
      // calling thread's 30 ms of them are far short of FULL_POOL_MS without that backlog.
      await flow(Array.from({ length: 200 }, () => 3))
        .map(cpu<number, number>(spend, { pool }))
        .forEach(() => {
          sizes.push(pool.size);
        });
      const warmAt = Math.ceil(WARM_MS / 3) + 1; // the first piece's item, then WARM_MS of items
      assert.equal(sizes[warmAt - 1], 2, `workers at each result: ${sizes.slice(0, 10).join(', ')}`);
    });
  });

  test('cpu() - once a worker started for every core, the calling thread stands aside while they start, and carries on if none is up in time', async () => {
    // Task time for what items cost, a fake clock for the pool's timers: WORKERS_STARTING_MS
    // passes only when the test says so.
    const timers = new FakeClock();
    const clock: Clock = {
      ...taskTime,
      setTimeout: (callback, ms) => timers.setTimeout(callback, ms),
      clearTimeout: (handle) => timers.clearTimeout(handle),
    };
    // As many workers as cores (the calling thread beside them would be one thread too many),
    // held at their gate: not one of them gets ready.
    const pool = new WorkerPool<GatedItem, Ran>(gated, {
      workers: availableParallelism(),
      headStart: true,
      clock,
    });
    try {
      // 100,000 items of 0.01 ms: a long job, so every worker starts once WARM_MS of items were
      // timed on the calling thread.
      const items: GatedItem[] = Array.from({ length: 100_000 }, (_, i) => i);
      let here = 0;
      let settled = false;
      const job = flow(items)
        .map(cpu<GatedItem, Ran>(gated, { pool }))
        .tap((ran) => {
          if (ran.thread === threadId) here++;
        })
        .collect()
        .finally(() => {
          settled = true;
        });
      await turns(50);
      assert.equal(pool.size, availableParallelism());
      assert.equal(settled, false);
      assert.ok(here > 0 && here < 10_000, `${here} items ran on the calling thread before it stood aside`);
      const before = here;
      await turns(50);
      assert.equal(here, before, 'the calling thread ran items while it stood aside');
      // No worker ready in time: the calling thread carries on, and runs the rest.
      await timers.advance(WORKERS_STARTING_MS);
      const out = await job;
      assert.ok(
        out.every((r, i) => r.value === i * 2 && r.thread === threadId),
        'an item came back wrong, out of order, or from a worker that was never ready',
      );
    } finally {
      await pool.close();
    }
  });

  test('cpu() - a first item that reads slow (a cold task, a preemption) does not start the last worker for a 100 ms job', async () => {
    await onTaskTime(async (pool) => {
      // Projected from the first item alone: 15 + 99 x 15 ms, past FULL_POOL_MS. The job is 114 ms.
      const items = [15, ...Array.from({ length: 99 }, () => 1)];
      await flow(items).map(cpu<number, number>(spend, { pool })).collect();
      assert.equal(pool.size, 1);
    });
  });

  test('cpu() - a 25 ms job whose first items ran ten times their cost (the JIT not done compiling) starts no worker', async () => {
    await onTaskTime(async (pool) => {
      // Seen in cold processes (bench/RESULTS.md): 10,000 two-microsecond items read 6 to 23 us
      // each from their first pieces, looked like 60 to 230 ms and started a worker.
      const items = [
        ...Array.from({ length: 300 }, () => 0.02),
        ...Array.from({ length: 9_700 }, () => 0.002),
      ];
      const threads = await flow(items).map(cpu<number, number>(spend, { pool })).collect();
      assert.equal(pool.size, 0);
      assert.ok(threads.every((thread) => thread === threadId));
    });
  });

  test('cpu() - a 200 ms job whose first 10 ms of items ran ten times their cost (the JIT not done compiling) does not start the last worker', async () => {
    await onTaskTime(async (pool) => {
      // Seen in cold processes (bench/RESULTS.md): 2-microsecond items read 21 to 24 us each for
      // their first 6 to 10 ms, while the compiler thread shared two cores with a starting
      // worker. Projected from those, 100,000 items looked like two seconds.
      const items = [
        ...Array.from({ length: 450 }, () => 0.022),
        ...Array.from({ length: 99_550 }, () => 0.002),
      ];
      await flow(items).map(cpu<number, number>(spend, { pool })).collect();
      assert.equal(pool.size, 1);
    });
  });

  test('cpu() - a short job whose first two items read slow starts no worker: the plan waits for PLANNING_PIECES timed pieces after the first', async () => {
    await onTaskTime(async (pool) => {
      // 40 ms of work in all, short of SOLO_MS; read from either of its first two items alone,
      // 10,000 x 15 ms, minutes.
      const items = [15, 15, ...Array.from({ length: 9_998 }, () => 0.001)];
      const ran = await flow(items).map(cpu<number, number>(spend, { pool })).collect();
      assert.equal(ran.length, items.length);
      assert.ok(
        ran.every((thread) => thread === threadId),
        'an item ran off the calling thread',
      );
      assert.equal(pool.size, 0, 'a worker started for a job the calling thread finished alone');
    });
  });

  test("cpu() - flows one after another on a pool plan from all the work its threads have done, not the calling thread's alone", async () => {
    await import(spin.href);
    const pool = new WorkerPool<number, number>(spin, { workers: 2 });
    const run = (items: number) =>
      flow(Array.from({ length: items }, () => 1))
        .map(cpu<number, number>(spin, { pool }))
        .collect();
    try {
      // 60 ms of 1 ms items: past SOLO_MS, so one worker starts beside the calling thread.
      await run(60);
      assert.equal(pool.size, 1);
      // Once it is up, 240 ms more, shared between it and the calling thread.
      while ((await pool.run(0)) === threadId) await new Promise((resolve) => setTimeout(resolve, 10));
      const threads = await run(240);
      assert.ok(
        threads.some((thread) => thread !== threadId),
        'the worker ran none of the second flow',
      );
      assert.equal(pool.size, 1);
      // 110 ms more: with the 300 ms both threads have done, past FULL_POOL_MS, so the last worker
      // starts. The calling thread alone has done about 200 ms of it: 310, one worker, as before.
      await run(110);
      assert.equal(pool.size, 2);
    } finally {
      await pool.close();
    }
  });

  test('a task the calling thread cannot finish loading starts the workers after HEAD_START_LOAD_MS on the pool clock', async () => {
    const clock = new FakeClock();
    const pool = new WorkerPool<number, { thread: number; value: number }>(mainWaits, { workers: 1, clock });
    try {
      let settled = false;
      const result = pool.run(2).finally(() => {
        settled = true;
      });
      await turns(50);
      assert.equal(pool.size, 0);
      assert.equal(settled, false);
      await clock.advance(HEAD_START_LOAD_MS);
      assert.equal(pool.size, 1);
      const ran = await result;
      assert.equal(ran.value, 4);
      assert.notEqual(ran.thread, threadId);
    } finally {
      await pool.close();
    }
  });

  test('an item slower than 20 ms stops the head start at once: the next items wait for the workers', async () => {
    const pool = new WorkerPool<number, number>(spin, { workers: 1 });
    try {
      assert.equal(await pool.run(25), threadId);
      assert.equal(pool.size, 1);
      assert.notEqual(await pool.run(0), threadId);
    } finally {
      await pool.close();
    }
  });

  test('a task with a setup never runs on the calling thread', async () => {
    await waitsForWorkers(
      new WorkerPool<number, { thread: number }>(gatedSetup, { workers: 1, headStart: true }),
      () => workers.open(),
    );
  });

  test('items with a deadline, and pools with resourceLimits, wait for the workers', async () => {
    const limited = new WorkerPool<GatedItem, Ran>(gated, {
      workers: 1,
      headStart: true,
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    const pool = new WorkerPool<GatedItem, Ran>(gated, { workers: 1, headStart: true, clock: taskTime });
    try {
      // The calling thread is ready once it has loaded the module: an item without options runs there.
      assert.equal((await pool.run(1)).thread, threadId);
      const settled: string[] = [];
      const timed = pool.run(1, { timeout: 5_000 }).finally(() => settled.push('timed'));
      const fenced = limited.run(1).finally(() => settled.push('fenced'));
      await turns(50);
      assert.deepEqual(settled, []);
      workers.open();
      assert.notEqual((await timed).thread, threadId);
      assert.notEqual((await fenced).thread, threadId);
    } finally {
      await Promise.all([pool.close(), limited.close()]);
    }
  });

  test('on the calling thread, items and results are copies and errors keep their code, as on a worker', async () => {
    const pool = new WorkerPool<GatedItem, Ran>(gated, { workers: 1, headStart: true, clock: taskTime });
    try {
      const list = [1, 2];
      const ran = await pool.run({ op: 'mutate', list });
      assert.equal(ran.thread, threadId);
      assert.equal(ran.value, 3);
      assert.deepEqual(list, [1, 2], "the task changed the caller's item");
      await assert.rejects(pool.run({ op: 'throw', message: 'bad record' }), (error: Error) => {
        assert.equal(error.message, 'bad record');
        assert.equal((error as Error & { code: string }).code, 'E_FIXTURE');
        return true;
      });
      await assert.rejects(pool.run((() => 1) as unknown as GatedItem), (error) =>
        isSluiceError(error, 'SLUICE_ERR_DATA_CLONE'),
      );
    } finally {
      await pool.close();
    }
  });

  // On a machine of two cores its two workers, held at their gate for good, start on every core:
  // the calling thread stands aside for WORKERS_STARTING_MS, then carries on and runs the job.
  test('cpu() - a job done before the workers start gives the event loop a turn between slices', async () => {
    let ticks = 0;
    let ticking = true;
    const tick = (): void => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    // Enough items that the job takes many slices of a few milliseconds each.
    const items = Array.from({ length: 200_000 }, (_, i) => i);
    const out = await flow(items)
      .map(cpu<number, Ran>(gated, { workers: 2, headStart: true, clock: taskTime }))
      .collect();
    ticking = false;
    assert.equal(out.length, items.length);
    assert.ok(
      out.every((r, i) => r.value === i * 2 && r.index === i && r.thread === threadId),
      'an item came back wrong, out of order, or from a worker that was never ready',
    );
    assert.ok(ticks > 5, `the event loop turned only ${ticks} times during the run`);
  });

  test('items that answer or fail, at once or through a promise, in any order: each ends as its own call did, on the calling thread and on a worker', async () => {
    const jobs = fc.sample(
      fc.array(
        fc.record({ op: fc.constantFrom('value', 'throw', 'async', 'async-throw'), n: fc.nat(1_000) }),
        { minLength: 1, maxLength: 40 },
      ),
      { seed: 20_261_130, numRuns: 8 },
    ) as Step[][];
    for (const headStart of [true, false]) {
      const pool = new WorkerPool<Step, number>(steps, { workers: 1, headStart });
      try {
        for (const job of jobs) {
          const failed: number[] = [];
          const out = await flow(job)
            .map(cpu<Step, number>(steps, { pool }), {
              onError: (step, error) => {
                assert.equal((error as Error).message, `refuses ${step.n}`);
                failed.push(step.n);
              },
            })
            .collect();
          const answers = job.filter((s) => s.op === 'value' || s.op === 'async');
          assert.deepEqual(
            out,
            answers.map((s) => s.n * 2),
            `headStart ${headStart}: ${JSON.stringify(job)}`,
          );
          assert.deepEqual(
            failed.sort((a, b) => a - b),
            job
              .filter((s) => !answers.includes(s))
              .map((s) => s.n)
              .sort((a, b) => a - b),
          );
        }
        // Jobs this small never start a worker beside the calling thread; without it, they all ran on one.
        assert.equal(pool.size, headStart ? 0 : 1);
      } finally {
        await pool.close();
      }
    }
  });

  test('cpu() - every item comes back once, in order, however the job splits between the calling thread and the workers', async () => {
    const random = seeded(20_261_128);
    for (let round = 0; round < 6; round++) {
      const gate = new WorkerGate();
      const length = 1 + Math.floor(random() * 30_000);
      const openAfter = Math.floor(random() * length);
      const seed = `round ${round}: ${length} items, workers ready after ${openAfter} results`;
      try {
        const items = Array.from({ length }, (_, i) => i);
        let seen = 0;
        const out = await flow(items)
          .map(cpu<number, Ran>(gated, { workers: 2, headStart: true, clock: taskTime }))
          .map((ran) => {
            if (++seen === openAfter) gate.open();
            return ran;
          })
          .collect();
        assert.deepEqual(
          out.map((r) => r.value),
          items.map((i) => i * 2),
          seed,
        );
      } finally {
        gate.close();
      }
    }
  });
});
