import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { jetstream, startWorker } from '@sluice/nats';
import { type BatchOutcome, isSluiceError } from 'sluice';
import { TestNatsServer } from './helpers/nats-server.js';
import { closing, fixture, openStage } from './helpers/stage.js';
import { type ChildWorker, spawnWorker } from './helpers/worker-process.js';

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Every request's outcome, or a failure naming what hung: a run that never ends must fail its test, not stall the suite. */
async function settled<T>(requests: Promise<T>[]): Promise<T[]> {
  let outcomes: T[] | undefined;
  void Promise.all(requests).then((done) => {
    outcomes = done;
  });
  await until('every request to settle', () => outcomes !== undefined);
  return outcomes as T[];
}

const server = new TestNatsServer();

/**
 * One worker and a coordinator running 200 items of 20 ms on stage `name`, a tenth of them
 * answered: where the tests that break a live run's streams or consumers start.
 */
async function runningStage(t: TestContext, name: string) {
  const worker = closing(
    t,
    await startWorker({ servers: server.url, tasks: [fixture('sleep.task.ts')], threads: 1 }),
  );
  const remote = closing(t, jetstream({ servers: server.url, ackWaitMs: 1_000 }));
  const stage = openStage<number, number>(remote, fixture('sleep.task.ts'), name);
  await stage.ready?.();
  const requests = Array.from({ length: 20 }, (_, r) =>
    stage.execute({ items: new Array(10).fill(20), first: r * 10 }),
  );
  await until('some answers', () => (remote.stats()[0]?.answered ?? 0) >= 20);
  const nc = closing(t, await connect({ servers: server.url }));
  return { worker, remote, stage, requests, jsm: await jetstreamManager(nc) };
}

/**
 * Two workers and a coordinator running `requests` requests of 100 items of 1 ms on stage `name`;
 * once `killAt` items are answered, the broker is killed, and restarted on its store a second later.
 */
async function restartedMidRun(
  t: TestContext,
  name: string,
  { requests: count, killAt }: { requests: number; killAt: number },
) {
  const workers = await Promise.all(
    [`${name}-1`, `${name}-2`].map((worker) =>
      startWorker({ servers: server.url, tasks: [fixture('sleep.task.ts')], threads: 1, name: worker }),
    ),
  );
  t.after(() => Promise.all(workers.map((worker) => worker.close())));
  const remote = closing(t, jetstream({ servers: server.url, ackWaitMs: 2_000 }));
  const stage = openStage<number, number>(remote, fixture('sleep.task.ts'), name);
  await stage.ready?.();
  const requests = Array.from({ length: count }, (_, r) =>
    stage.execute({ items: new Array(100).fill(1), first: r * 100 }),
  );
  await until(`${killAt} answers`, () => (remote.stats()[0]?.answered ?? 0) >= killAt);
  await server.kill();
  await sleep(1_000);
  await server.start();
  return { remote, stage, requests };
}

/** Each of `count` items answered once, with its own index (what the sleep task answers), in order. */
async function assertIndices(requests: Promise<BatchOutcome<number>>[], count: number): Promise<void> {
  const values = (await settled(requests)).flatMap((outcome) => outcome.values);
  assert.deepEqual(
    values,
    Array.from({ length: count }, (_, i) => i),
  );
}

/** Starts a coordinator process (fixtures/coordinator-main.ts) and waits for `says` on its stdout. */
async function coordinate(runId: string, task: URL, says?: string): Promise<ChildProcess> {
  const main = fileURLToPath(new URL('./fixtures/coordinator-main.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--conditions=sluice-source', '--import', 'tsx', main, server.url, runId, fileURLToPath(task)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (says !== undefined) {
    await new Promise<void>((resolve) =>
      child.stdout?.on('data', (chunk: Buffer) => chunk.includes(says) && resolve()),
    );
  }
  return child;
}

describe('failures', () => {
  before(() => server.start());
  after(() => server.stop());

  test('a worker killed with SIGKILL mid-batch loses nothing: its items go to another worker', async (t) => {
    const workers = [
      await spawnWorker(server.url, fixture('sleep.task.ts'), 'victim'),
      await spawnWorker(server.url, fixture('sleep.task.ts'), 'survivor'),
    ];
    t.after(() => Promise.all(workers.map((worker) => worker.kill())));
    const remote = closing(t, jetstream({ servers: server.url, ackWaitMs: 2_000 }));
    const stage = openStage<number, number>(remote, fixture('sleep.task.ts'), 'slow');
    await stage.ready?.();
    const requests = Array.from({ length: 10 }, (_, r) =>
      stage.execute({ items: new Array(40).fill(10), first: r * 40 }),
    );
    await until('the victim to answer', () => (remote.stats()[0]?.workers.victim?.done ?? 0) > 0);
    await workers[0]?.kill();
    const values = (await Promise.all(requests)).flatMap((outcome) => outcome.values);
    assert.deepEqual(
      values,
      Array.from({ length: 400 }, (_, i) => i),
    );
    const stats = remote.stats()[0];
    assert.equal(stats?.answered, 400);
    assert.ok((stats?.redelivered ?? 0) > 0, 'some items were redelivered to the survivor');
    assert.ok((stats?.workers.survivor?.redelivered ?? 0) > 0);
    await stage.close();
    await remote.close();
    await Promise.all(workers.map((worker) => worker.stop()));
  });

  test('a live worker with a batch longer than the ack wait reports progress and is not redelivered', async (t) => {
    const worker = closing(
      t,
      await startWorker({ servers: server.url, tasks: [fixture('sleep.task.ts')], threads: 1 }),
    );
    const remote = closing(t, jetstream({ servers: server.url, ackWaitMs: 1_000 }));
    const stage = openStage<number, number>(remote, fixture('sleep.task.ts'), 'long');
    await stage.ready?.();
    const outcome = await stage.execute({ items: [2_500, 2_500], first: 0 });
    assert.deepEqual(outcome.values, [0, 1]);
    const stats = remote.stats()[0];
    assert.equal(stats?.redelivered, 0);
    assert.equal(stats?.duplicates, 0);
    await stage.close();
    await remote.close();
    await worker.close();
  });

  test('an item that kills its worker on every delivery ends with SLUICE_ERR_MAX_DELIVERIES; the rest complete', async (t) => {
    const workers = new Set<ChildWorker>();
    const starting = new Set<Promise<void>>();
    let spawned = 0;
    let stopping = false;
    // A supervisor: every killed worker is replaced, as systemd or Kubernetes would.
    const supervise = (): Promise<void> => {
      const start = spawnWorker(server.url, fixture('poison.task.ts'), `p${spawned++}`).then((worker) => {
        workers.add(worker);
        worker.child.once('exit', () => {
          workers.delete(worker);
          if (!stopping) void supervise().catch(() => {});
        });
      });
      starting.add(start);
      void start.finally(() => starting.delete(start)).catch(() => {});
      return start;
    };
    await Promise.all([supervise(), supervise()]);
    t.after(async () => {
      stopping = true;
      await Promise.allSettled([...starting]);
      await Promise.all([...workers].map((worker) => worker.kill()));
    });
    const remote = closing(t, jetstream({ servers: server.url, ackWaitMs: 1_000, maxDeliver: 3 }));
    const stage = openStage<string, string>(remote, fixture('poison.task.ts'), 'poison');
    await stage.ready?.();
    const items = ['a', 'b', 'poison', 'c', 'd', 'e'];
    const outcome = await stage.execute({ items, first: 0 });
    stopping = true;
    const poisoned = outcome.errors?.[2];
    assert.ok(isSluiceError(poisoned, 'SLUICE_ERR_MAX_DELIVERIES'), String(poisoned));
    assert.equal(poisoned.index, 2);
    assert.deepEqual(
      outcome.values.filter((_, i) => i !== 2),
      ['a', 'b', 'c', 'd', 'e'],
    );
    assert.equal(remote.stats()[0]?.poisoned, 1);
    assert.ok(spawned >= 4, `the poison item took down ${spawned - 2} workers`);
    await stage.close();
    await remote.close();
    await Promise.allSettled([...starting]);
    await Promise.all([...workers].map((worker) => worker.stop()));
  });

  test('the broker killed and restarted mid-run: the run completes, nothing lost, nothing doubled', async (t) => {
    const { remote, stage, requests } = await restartedMidRun(t, 'restart', { requests: 60, killAt: 2_000 });
    await assertIndices(requests, 6_000);
    assert.equal(remote.stats()[0]?.answered, 6_000);
    await stage.close();
  });

  test("the broker restarted and the stage's streams deleted before the coordinator noticed: they are put back and every item is answered", async (t) => {
    const { remote, stage, requests } = await restartedMidRun(t, 'wiped-restart', {
      requests: 15,
      killAt: 300,
    });
    // At once, as workers that took the coordinator for dead would: its answers' consumer then
    // reports the stream missing rather than a missed heartbeat, and the new streams number
    // their messages from 1 again.
    const nc = closing(t, await connect({ servers: server.url }));
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names())
      if (name.includes('wiped-restart')) await jsm.streams.delete(name);
    await assertIndices(requests, 1_500);
    assert.equal(remote.stats()[0]?.answered, 1_500);
    await stage.close();
  });

  test("a live run's work consumer deleted while its entry is missing for a moment: the coordinator puts the consumer back, workers keep the streams", async (t) => {
    const { worker, remote, stage, requests, jsm } = await runningStage(t, 'blink');
    const run = remote.stats()[0]?.run as string;
    const workStream = `SLUICE_WORK_${run}_blink`;
    const created = (await jsm.streams.info(workStream)).created;
    // The entry's message removed from the bucket's stream (no watcher hears of it: as a write lost
    // in a broker restart), and the consumer the worker fetches from deleted: every retry of its
    // fetch now checks the entry and finds it missing, until the coordinator's next heartbeat.
    const entry = await jsm.streams.getMessage('KV_sluice_runs', {
      last_by_subj: `$KV.sluice_runs.${run}.blink`,
    });
    assert.ok(entry !== null, 'the run is announced');
    await jsm.streams.deleteMessage('KV_sluice_runs', entry.seq);
    await jsm.consumers.delete(workStream, 'work');
    await assertIndices(requests, 200);
    assert.equal(
      (await jsm.streams.info(workStream)).created,
      created,
      'the work stream was deleted and put back',
    );
    assert.equal(worker.stats().serving.length, 1);
    await stage.close();
  });

  test('.ready() rides out a broker restart: it finds the worker that came up meanwhile', async (t) => {
    const remote = closing(
      t,
      jetstream({ servers: server.url, runId: 'ready-restart', workerWaitMs: 30_000 }),
    );
    const stage = openStage<number, number>(remote, fixture('sleep.task.ts'), 'waiting');
    let settled: string | undefined;
    const waiting = stage.ready?.();
    assert.ok(waiting !== undefined);
    const ready = waiting.then(
      () => {
        settled = 'ready';
      },
      (error: unknown) => {
        settled = `failed: ${(error as Error).message}`;
      },
    );
    await sleep(500);
    await server.kill();
    await sleep(1_500);
    await server.start();
    assert.equal(settled, undefined, 'ready() settled while no worker was up');
    const worker = closing(
      t,
      await startWorker({ servers: server.url, tasks: [fixture('sleep.task.ts')], threads: 1, name: 'late' }),
    );
    await ready;
    assert.equal(settled, 'ready');
    const outcome = await stage.execute({ items: [1, 1, 1], first: 0 });
    assert.deepEqual(outcome.values, [0, 1, 2]);
    await stage.close();
    await remote.close();
    await worker.close();
  });

  test('.ready() with the broker down for the whole wait: SLUICE_ERR_BROKER when the wait ends, not a raw client error', async (t) => {
    const remote = closing(t, jetstream({ servers: server.url, runId: 'ready-down', workerWaitMs: 2_000 }));
    const stage = openStage<number, number>(remote, fixture('sleep.task.ts'), 'waiting');
    // The stage's streams exist before the broker goes: ready() is then only listing workers.
    const ready = stage.ready?.() as Promise<void>;
    await sleep(500);
    await server.kill();
    try {
      const started = Date.now();
      await assert.rejects(ready, (error) => {
        assert.ok(isSluiceError(error, 'SLUICE_ERR_BROKER'), String(error));
        assert.match((error as Error).message, /could not be listed within 2000 ms/);
        return true;
      });
      // The wait, and at most the listing under way when it ended (the client's request timeout, 5 s).
      assert.ok(Date.now() - started < 8_000, `ready() took ${Date.now() - started} ms to give up`);
    } finally {
      await server.start();
    }
    // Closed once the broker answers again, so the run's announcement goes with it (a worker the
    // next test starts would otherwise join this run until the announcement's TTL).
    await until('the broker to answer again', async () => {
      try {
        await remote.workers();
        return true;
      } catch {
        return false;
      }
    });
    await stage.close();
    await remote.close();
  });

  test("a stage's streams deleted under a live coordinator are put back and the lost items sent again", async (t) => {
    const { worker, requests, jsm } = await runningStage(t, 'wiped');
    for await (const name of jsm.streams.names()) if (name.includes('wiped')) await jsm.streams.delete(name);
    await assertIndices(requests, 200);
    assert.equal(worker.stats().serving.length, 1);
  });

  test('a coordinator killed mid-run: workers serve later runs, and the dead run is cleaned up', async (t) => {
    const worker = closing(
      t,
      await startWorker({ servers: server.url, tasks: [fixture('sleep.task.ts')], threads: 1 }),
    );
    const nc = closing(t, await connect({ servers: server.url }));
    const jsm = await jetstreamManager(nc);
    const streamsOf = async (run: string) => {
      const names: string[] = [];
      for await (const name of jsm.streams.names()) if (name.includes(run)) names.push(name);
      return names;
    };
    // One dead run the worker served, and one for a task no worker serves, which nobody joined.
    const served = await coordinate('doomed', fixture('sleep.task.ts'), 'published');
    served.kill('SIGKILL');
    const orphan = await coordinate('orphan', fixture('echo.task.ts'));
    await until('the orphan run to open', async () => (await streamsOf('orphan')).length === 2);
    orphan.kill('SIGKILL');

    const remote = closing(t, jetstream({ servers: server.url, runId: 'next' }));
    const stage = openStage<number, number>(remote, fixture('sleep.task.ts'), 'slow');
    await stage.ready?.();
    const outcome = await stage.execute({ items: new Array(50).fill(1), first: 0 });
    assert.deepEqual(
      outcome.values,
      Array.from({ length: 50 }, (_, i) => i),
    );

    assert.equal((await streamsOf('doomed')).length, 2, 'the dead run left its streams behind at first');
    await until(
      'the dead runs to be cleaned up',
      async () => (await streamsOf('doomed')).length + (await streamsOf('orphan')).length === 0,
      45_000,
    );
    assert.deepEqual(worker.stats().serving, ['next.slow']);
    await nc.close();
    await stage.close();
    await remote.close();
    await worker.close();
  });
});
