import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream, startWorker, type Worker } from '@sluice/nats';
import { isSluiceError } from 'sluice';
import { TestNatsServer } from './helpers/nats-server.js';
import { closing, fixture, openStage } from './helpers/stage.js';

describe('jetstream() executor against two workers', () => {
  const server = new TestNatsServer();
  const workers: Worker[] = [];
  before(async () => {
    await server.start();
    for (const name of ['w1', 'w2']) {
      workers.push(
        await startWorker({
          servers: server.url,
          tasks: [fixture('double.task.ts'), fixture('echo.task.ts')],
          threads: 1,
          name,
        }),
      );
    }
  });
  after(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
    await server.stop();
  });

  test('.execute() - one outcome per item, in order, errors rebuilt with their class', async (t) => {
    const remote = closing(t, jetstream({ servers: server.url }));
    const stage = openStage<number, number>(remote, fixture('double.task.ts'), 'double');
    await stage.ready?.();
    const items = Array.from({ length: 5_000 }, (_, i) => (i % 1_000 === 7 ? -i : i));
    const outcome = await stage.execute({ items, first: 0 });
    for (let i = 0; i < items.length; i++) {
      if (i % 1_000 === 7) {
        const error = outcome.errors?.[i];
        assert.ok(error instanceof Error);
        assert.equal(error.name, 'RangeError');
        assert.match(error.message, /negative/);
      } else {
        assert.equal(outcome.values[i], i * 2);
        assert.equal(outcome.errors?.[i], undefined);
      }
    }
    const [stats] = remote.stats();
    assert.equal(stats?.answered, items.length);
    const perWorker = Object.values(stats?.workers ?? {});
    assert.equal(
      perWorker.reduce((sum, w) => sum + w.done, 0),
      items.length,
      'per-worker counts add up to the items answered',
    );
    assert.equal(
      perWorker.reduce((sum, w) => sum + w.failed, 0),
      5,
    );
    await stage.close();
    await remote.close();
  });

  test('.execute() - a request of many messages keeps at most maxInFlight items unanswered', async (t) => {
    const remote = closing(t, jetstream({ servers: server.url, maxInFlight: 300 }));
    const stage = openStage<number, number>(remote, fixture('double.task.ts'), 'bounded');
    await stage.ready?.();
    const requests = Array.from({ length: 40 }, (_, r) =>
      stage.execute({ items: Array.from({ length: 50 }, (_, i) => r * 50 + i), first: r * 50 }),
    );
    const outcomes = await Promise.all(requests);
    assert.deepEqual(
      outcomes.flatMap((o) => o.values),
      Array.from({ length: 2_000 }, (_, i) => i * 2),
    );
    const [stats] = remote.stats();
    assert.ok((stats?.peakInFlight ?? 0) <= 300, `peak in flight ${stats?.peakInFlight} <= 300`);
    assert.ok((stats?.peakInFlight ?? 0) >= 100, 'requests overlapped');
    await stage.close();
    await remote.close();
  });

  test('an item too big for a message fails with SLUICE_ERR_PAYLOAD_TOO_LARGE; so does a result', async (t) => {
    const remote = closing(t, jetstream({ servers: server.url }));
    const stage = openStage<number | string, string>(remote, fixture('echo.task.ts'), 'echo');
    await stage.ready?.();
    const huge = 'y'.repeat(2 * 1024 * 1024);
    const outcome = await stage.execute({ items: [3, huge, 4, 3 * 1024 * 1024, 5], first: 0 });
    assert.deepEqual([outcome.values[0], outcome.values[2], outcome.values[4]], ['xxx', 'xxxx', 'xxxxx']);
    assert.ok(isSluiceError(outcome.errors?.[1], 'SLUICE_ERR_PAYLOAD_TOO_LARGE'), 'the item');
    assert.ok(isSluiceError(outcome.errors?.[3], 'SLUICE_ERR_PAYLOAD_TOO_LARGE'), 'the result');
    await stage.close();
    await remote.close();
  });

  test('workers announce themselves: name, host, tasks, threads, counts', async (t) => {
    const remote = closing(t, jetstream({ servers: server.url }));
    const seen = await remote.workers();
    assert.deepEqual(
      seen.map((w) => w.name),
      ['w1', 'w2'],
    );
    for (const w of seen) {
      assert.equal(w.threads, 1);
      assert.equal(w.tasks.length, 2);
      assert.match(w.tasks[0] as string, /^double@[0-9a-f]{16}$/);
      assert.equal(typeof w.rate, 'number');
    }
    assert.equal(workers[0]?.stats().name, 'w1');
    await remote.close();
  });

  test('.ready() - no worker serves this version of the task: SLUICE_ERR_NO_WORKERS', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-task-'));
    const copy = join(dir, 'double.task.ts');
    copyFileSync(fixture('double.task.ts'), copy);
    writeFileSync(copy, '\n// another version\n', { flag: 'a' });
    const remote = closing(t, jetstream({ servers: server.url, workerWaitMs: 300 }));
    const stage = openStage<number, number>(remote, pathToFileURL(copy), 'other-version');
    await assert.rejects(stage.ready?.() as Promise<void>, (error) => {
      assert.ok(isSluiceError(error, 'SLUICE_ERR_NO_WORKERS'));
      assert.match((error as Error).message, /double@/);
      return true;
    });
    await stage.close();
    await remote.close();
  });

  test('a work message naming a task the worker does not serve is answered with SLUICE_ERR_UNKNOWN_TASK', async (t) => {
    const remote = closing(t, jetstream({ servers: server.url, runId: 'forged' }));
    const stage = openStage<number, number>(remote, fixture('double.task.ts'), 'double');
    await stage.ready?.();
    await stage.execute({ items: [1], first: 0 });
    const nc = closing(t, await connect({ servers: server.url }));
    const answers = nc.subscribe('sluice.res.forged.double', { max: 1 });
    const headers = natsHeaders();
    headers.set('Sluice-Task', 'rm-rf@0000000000000000');
    headers.set('Sluice-First', '1000');
    nc.publish('sluice.work.forged.double', '[1,2]', { headers });
    for await (const answer of answers) {
      const body = answer.json<{ v: unknown[]; e: [number, { code: string }][] }>();
      assert.equal(body.v.length, 2);
      assert.deepEqual(
        body.e.map(([at, error]) => [at, error.code]),
        [
          [0, 'SLUICE_ERR_UNKNOWN_TASK'],
          [1, 'SLUICE_ERR_UNKNOWN_TASK'],
        ],
      );
    }
    await nc.close();
    await stage.close();
    await remote.close();
  });

  test('.close() - deletes the stage streams and its announcement', async (t) => {
    const remote = closing(t, jetstream({ servers: server.url, runId: 'tidy' }));
    const stage = openStage<number, number>(remote, fixture('double.task.ts'), 'double');
    await stage.ready?.();
    await stage.execute({ items: [1, 2, 3], first: 0 });
    await stage.close();
    const nc = closing(t, await connect({ servers: server.url }));
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) names.push(name);
    assert.deepEqual(
      names.filter((name) => name.includes('tidy')),
      [],
    );
    await nc.close();
    await remote.close();
  });
});
