import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { jetstream, startWorker } from '@sluice/nats';
import { isSluiceError } from 'sluice';
import { TestNatsServer } from './helpers/nats-server.js';
import { closing, fixture, openStage } from './helpers/stage.js';

describe('startWorker()', () => {
  const server = new TestNatsServer();
  before(() => server.start());
  after(() => server.stop());

  test('.close() - lets the messages in hand finish and answers them before it returns', async (t) => {
    const worker = closing(
      t,
      await startWorker({
        servers: server.url,
        tasks: [fixture('sleep.task.ts')],
        threads: 1,
        name: 'drainer',
      }),
    );
    const remote = closing(t, jetstream({ servers: server.url }));
    const stage = openStage<number, number>(remote, fixture('sleep.task.ts'), 'drain');
    await stage.ready?.();
    const outcome = stage.execute({ items: [600, 600], first: 0 });
    while (worker.stats().serving.length === 0 || remote.stats()[0]?.published !== 2) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    await worker.close();
    assert.deepEqual((await outcome).values, [0, 1]);
    assert.equal(remote.stats()[0]?.workers.drainer?.done, 2);
    await stage.close();
    await remote.close();
  });

  test('.close() - past drainMs, what it holds goes back to the queue for another worker', async (t) => {
    const quitter = closing(
      t,
      await startWorker({
        servers: server.url,
        tasks: [fixture('sleep.task.ts')],
        threads: 1,
        name: 'quitter',
        drainMs: 0,
      }),
    );
    const remote = closing(t, jetstream({ servers: server.url, ackWaitMs: 30_000 }));
    const stage = openStage<number, number>(remote, fixture('sleep.task.ts'), 'handover');
    await stage.ready?.();
    const outcome = stage.execute({ items: [1_000, 1_000], first: 0 });
    while (quitter.stats().serving.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await quitter.close();
    const heir = closing(
      t,
      await startWorker({
        servers: server.url,
        tasks: [fixture('sleep.task.ts')],
        threads: 1,
        name: 'heir',
      }),
    );
    // The ack wait is 30 s: an answer sooner means the message was given back, not timed out.
    assert.deepEqual((await outcome).values, [0, 1]);
    assert.equal(remote.stats()[0]?.workers.heir?.done, 2);
    await stage.close();
    await remote.close();
    await heir.close();
  });

  test('an aborted request stops its items on the worker, which moves on to the next', async (t) => {
    const worker = closing(
      t,
      await startWorker({
        servers: server.url,
        tasks: [fixture('sleep.task.ts')],
        threads: 1,
        name: 'solo',
      }),
    );
    const remote = closing(t, jetstream({ servers: server.url }));
    const stage = openStage<number, number>(remote, fixture('sleep.task.ts'), 'abort');
    await stage.ready?.();
    const controller = new AbortController();
    const doomed = stage.execute({ items: [60_000], first: 0, signal: controller.signal });
    while (worker.stats().serving.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort();
    await assert.rejects(doomed, (error) => isSluiceError(error, 'SLUICE_ERR_ABORTED'));
    // One thread: this answer comes only once the 60 s item was stopped. A hang guard, not a timing
    // assertion: it only has to come well before the minute the item would otherwise take.
    const guard = new Promise((resolve) => setTimeout(resolve, 30_000, 'still running').unref());
    const outcome = await Promise.race([stage.execute({ items: [1], first: 1 }), guard]);
    assert.deepEqual((outcome as { values?: unknown }).values, [1]);
    await stage.close();
    await remote.close();
    await worker.close();
  });

  test('listing runs and workers leaves nothing on the broker: a worker serving for several heartbeats, a coordinator waiting for it', async (t) => {
    // A broker of its own (the shared one counts every other test's consumers), stopped last:
    // clients closed after it would wait to reconnect.
    const own = new TestNatsServer();
    const open: { close(): Promise<unknown> }[] = [];
    t.after(async () => {
      for (const resource of open.reverse()) await resource.close();
      await own.stop();
    });
    await own.start();
    const worker = await startWorker({
      servers: own.url,
      tasks: [fixture('sleep.task.ts')],
      threads: 1,
      name: 'lister',
    });
    open.push(worker);
    const remote = jetstream({ servers: own.url });
    open.push(remote);
    const stage = openStage<number, number>(remote, fixture('sleep.task.ts'), 'listing');
    await stage.ready?.();
    assert.deepEqual((await stage.execute({ items: [1, 1], first: 0 })).values, [0, 1]);
    for (let i = 0; i < 5; i++)
      assert.deepEqual(
        (await remote.workers()).map((w) => w.name),
        ['lister'],
      );
    // Three of the worker's heartbeats (each lists the runs bucket), and the run still served.
    await sleep(6_500);
    assert.equal(worker.stats().serving.length, 1);
    const nc = await connect({ servers: own.url });
    open.push(nc);
    const jsm = await jetstreamManager(nc);
    const consumers = async (stream: string) => (await jsm.streams.info(stream)).state.consumer_count;
    // The worker's watch of the runs bucket, and nothing per listing.
    assert.equal(await consumers('KV_sluice_runs'), 1);
    assert.equal(await consumers('KV_sluice_workers'), 0);
  });

  test('bad options are coded errors', async () => {
    await assert.rejects(startWorker({ servers: server.url, tasks: [fixture('missing.task.ts')] }), (error) =>
      isSluiceError(error, 'SLUICE_ERR_TASK_NOT_FOUND'),
    );
    await assert.rejects(
      startWorker({ servers: server.url, tasks: [fixture('sleep.task.ts')], threads: 0 }),
      (error) => isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_VALUE'),
    );
    assert.throws(
      () => jetstream({ servers: server.url, maxInFlight: 0 }),
      (error) => isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_VALUE'),
    );
    assert.throws(
      () => jetstream({ servers: server.url, ackWaitMs: '10s' as unknown as number }),
      (error) => isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_TYPE'),
    );
  });
});
