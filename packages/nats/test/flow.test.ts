import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jetstream, startWorker, type Worker } from '@sluice/nats';
import { cpu, flow, isSluiceError } from 'sluice';
import { TestNatsServer } from './helpers/nats-server.js';
import { closing, fixture } from './helpers/stage.js';

describe('a flow whose cpu() stage runs on jetstream()', () => {
  const server = new TestNatsServer();
  const workers: Worker[] = [];
  before(async () => {
    await server.start();
    for (const name of ['f1', 'f2']) {
      workers.push(
        await startWorker({ servers: server.url, tasks: [fixture('double.task.ts')], threads: 1, name }),
      );
    }
  });
  after(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
    await server.stop();
  });

  test('every item ends one way and the report counts it: emitted, skipped', async (t) => {
    const remote = closing(t, jetstream({ servers: server.url }));
    const items = Array.from({ length: 3_000 }, (_, i) => (i % 500 === 9 ? -i : i));
    const results: number[] = [];
    const report = await flow(items)
      .map(cpu<number, number>(fixture('double.task.ts'), { executor: remote }), {
        name: 'double',
        onError: 'skip',
      })
      .forEach((value) => {
        results.push(value);
      });
    assert.deepEqual(
      results,
      items.filter((n) => n >= 0).map((n) => n * 2),
    );
    const stage = report.stages.find((s) => s.name === 'double');
    assert.equal(stage?.entered, 3_000);
    assert.equal(stage?.emitted, 2_994);
    assert.equal(stage?.skipped, 6);
    const [stats] = remote.stats();
    assert.equal(stats?.answered, 3_000);
    // The stage's report carries the executor's own counts: per worker, and they add up.
    const remoteReport = stage?.executor as {
      answered: number;
      workers: Record<string, { done: number; failed: number }>;
    };
    assert.equal(remoteReport.answered, 3_000);
    assert.deepEqual(Object.keys(remoteReport.workers).sort(), ['f1', 'f2']);
    assert.equal(
      Object.values(remoteReport.workers).reduce((sum, w) => sum + w.done, 0),
      3_000,
    );
    assert.equal(
      Object.values(remoteReport.workers).reduce((sum, w) => sum + w.failed, 0),
      6,
    );
  });

  test('a failing item fails the run with its own error, and the run closes its stage', async (t) => {
    const remote = closing(t, jetstream({ servers: server.url }));
    await assert.rejects(
      flow([1, 2, -3, 4])
        .map(cpu<number, number>(fixture('double.task.ts'), { executor: remote }))
        .collect(),
      (error) => {
        assert.ok(isSluiceError(error) || error instanceof Error);
        assert.match(String((error as Error).message) + String((error as Error).cause), /negative/);
        return true;
      },
    );
    assert.equal(remote.stats()[0]?.inFlight, 0);
  });
});
