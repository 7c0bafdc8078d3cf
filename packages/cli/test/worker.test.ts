import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstream } from '@sluice/nats';
import { cpu, flow } from 'sluice';
import { TestNatsServer } from '../../nats/test/helpers/nats-server.js';
import { WorkerProcess } from '../src/worker/worker-process.js';

const exec = promisify(execFile);
const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const double = new URL('./fixtures/double.task.ts', import.meta.url);
const slow = new URL('./fixtures/slow.task.ts', import.meta.url);
const LOCAL_NATS = 'nats://127.0.0.1:4222';

type Failed = { code: number; stdout: string; stderr: string };

function sluiceWorker(...args: string[]): Promise<Failed> {
  return exec(process.execPath, ['--import', 'tsx', bin, 'worker', ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: Failed) => error,
  );
}

const running = new Set<WorkerProcess>();
function startWorker(...args: ConstructorParameters<typeof WorkerProcess>): WorkerProcess {
  const worker = new WorkerProcess(...args);
  running.add(worker);
  return worker;
}
after(() => Promise.all([...running].map((w) => w.stop('SIGKILL'))));

test('sluice worker with a task module that does not exist exits 1 at once with one coded line', async () => {
  const result = await sluiceWorker('./no-such.task.js', '--nats', 'nats://127.0.0.1:1');
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^sluice: no task module at \/.*no-such\.task\.js \(SLUICE_ERR_TASK_NOT_FOUND\)\n$/,
  );
});

test('sluice worker without --nats is a usage error', async () => {
  const result = await sluiceWorker(fileURLToPath(double));
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--nats <url>.*\(SLUICE_ERR_USAGE\)/);
});

test('sluice worker waits for an unreachable server, a log line per attempt, and exits 1 when --wait runs out', async () => {
  const broker = new TestNatsServer();
  await broker.start();
  await broker.stop(); // its port is now one where nothing listens
  const worker = startWorker({ tasks: [double], servers: broker.url, args: ['--wait', '1'] });
  const code = await worker.exit();
  assert.equal(code, 1);
  const waits = worker.lines.filter((l) => l.msg === 'NATS server not reachable, waiting for it');
  assert.ok(waits.length >= 2, `${waits.length} waiting lines`);
  assert.deepEqual(
    waits.map((l) => l.attempt),
    waits.map((_, i) => i + 1),
  );
  assert.match(
    worker.stderr,
    /^sluice: cannot reach the NATS server at nats:\/\/127\.0\.0\.1:\d+ \(\d+ attempts\): .* \(SLUICE_ERR_BROKER_UNREACHABLE\)\n$/,
  );
});

test('sluice worker serves a flow with another, drains on SIGTERM and exits 0, logging each step as JSON', async () => {
  const workers = ['a', 'b'].map((name) =>
    startWorker({
      tasks: [double],
      servers: LOCAL_NATS,
      threads: 1,
      name: `test-worker-${name}-${process.pid}`,
    }),
  );
  await Promise.all(workers.map((w) => w.started()));
  const remote = jetstream({ servers: LOCAL_NATS });
  try {
    const items = Array.from({ length: 5_000 }, (_, i) => i);
    const out = await flow(items)
      .map(cpu<number, number>(double, { executor: remote }))
      .collect();
    assert.deepEqual(
      out,
      items.map((i) => i * 2),
    );
    const [stage] = remote.stats();
    const done = Object.entries(stage?.workers ?? {}).filter(([name]) => name.startsWith('test-worker-'));
    assert.equal(
      done.reduce((sum, [, counts]) => sum + counts.done, 0),
      items.length,
      'every item was answered by one of the two workers',
    );
  } finally {
    await remote.close();
  }
  for (const worker of workers) {
    assert.equal(await worker.stop('SIGTERM'), 0);
    const messages = worker.lines.map((l) => l.msg);
    for (const step of [
      'worker starting',
      'connected to NATS',
      'worker started',
      'stopping: finishing the batches in hand (signal again to quit at once)',
      'worker stopped',
    ])
      assert.ok(messages.includes(step), `"${step}" in ${JSON.stringify(messages)}`);
    const stopped = worker.lines.at(-1);
    assert.equal(stopped?.msg, 'worker stopped');
    assert.equal(typeof stopped?.done, 'number');
    assert.ok(worker.lines.every((l) => typeof l.time === 'number' && typeof l.level === 'number'));
  }
});

test('sluice worker started before its server waits for it, then logs losing and regaining the connection', async () => {
  const broker = new TestNatsServer();
  await broker.start();
  await broker.kill();
  try {
    const worker = startWorker({ tasks: [double], servers: broker.url, threads: 1 });
    await worker.waitFor('NATS server not reachable, waiting for it');
    await broker.start();
    await worker.started();
    await broker.kill();
    await worker.waitFor('disconnected from NATS');
    await broker.start();
    await worker.waitFor('reconnected to NATS');
    assert.equal(await worker.stop('SIGTERM'), 0);
  } finally {
    await broker.stop();
  }
});

test('sluice worker exits 130 at a second signal while it drains a batch in hand', async () => {
  const worker = startWorker({ tasks: [slow], servers: LOCAL_NATS, threads: 1 });
  await worker.started();
  const remote = jetstream({ servers: LOCAL_NATS });
  const controller = new AbortController();
  const run = flow([5_000])
    .map(cpu<number, number>(slow, { executor: remote }))
    .run({ signal: controller.signal })
    .catch(() => undefined);
  try {
    while ((remote.stats()[0]?.published ?? 0) === 0) await sleep(20);
    await sleep(300); // delivered and running on the worker's thread
    worker.child.kill('SIGINT');
    await worker.waitFor(/^stopping/);
    // A different signal, so the two cannot merge into one pending signal.
    assert.equal(await worker.stop('SIGTERM'), 130);
    assert.equal(worker.lines.at(-1)?.msg, 'second signal, exiting without draining');
  } finally {
    controller.abort();
    await run;
    await remote.close();
  }
});
