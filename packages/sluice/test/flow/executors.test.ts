import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  cpu,
  type Executor,
  type ExecutorProvider,
  flow,
  inProcess,
  isSluiceError,
  processes,
  threads,
  WorkerPool,
} from '../../src/index.js';
import { expectedFlowCounts, flowCounts } from '../exec/conformance.js';
import type { Step } from '../fixtures/tasks/conformance.task.js';

const task = new URL('../fixtures/tasks/conformance.task.js', import.meta.url);

const steps: Step[] = Array.from({ length: 30 }, (_, i): Step => {
  if (i % 10 === 3) return { op: 'flaky', failures: 1 };
  if (i % 10 === 7) return { op: 'throw', message: `item ${i}` };
  return { op: 'echo', value: i };
});

async function runOn(
  executor: ExecutorProvider,
): Promise<{ output: unknown[]; counts: typeof expectedFlowCounts }> {
  const output: unknown[] = [];
  const report = await flow(steps)
    .map(cpu<Step, unknown>(task, { executor }), {
      name: 'step',
      retry: { attempts: 2, baseDelayMs: 1, jitter: false },
      onError: 'skip',
      ordered: true,
    })
    .forEach((value) => {
      output.push(value);
    });
  return { output, counts: flowCounts(report.stages.find((s) => s.name === 'step')) };
}

describe('map(cpu(url, { executor }))', () => {
  test('the same flow gives the same output and the same report counts on every provider', async () => {
    const onThreads = await runOn(threads({ workers: 2 }));
    const onProcesses = await runOn(processes({ workers: 2 }));
    const inline = await runOn(inProcess());
    assert.deepEqual(onThreads.counts, expectedFlowCounts);
    assert.deepEqual(onProcesses, onThreads);
    assert.deepEqual(inline, onThreads);
  });

  test('any provider will do: only the required parts, its batch size honoured, closed once per run', async () => {
    const sizes: number[] = [];
    let closes = 0;
    const minimal: ExecutorProvider = {
      open<In, Out>(resolved: Parameters<ExecutorProvider['open']>[0], context: { stage: string }) {
        const inner = inProcess().open<In, Out>(resolved, context);
        const executor: Executor<In, Out> = {
          execute: (request) => {
            sizes.push(request.items.length);
            return inner.execute(request);
          },
          batchSize: 4,
          capacity: 1,
          close: () => {
            closes++;
            return inner.close();
          },
        };
        return executor;
      },
    };
    const values = await flow(Array.from({ length: 10 }, (_, i): Step => ({ op: 'echo', value: i })))
      .map(cpu<Step, { value: number }>(task, { executor: minimal }))
      .collect();
    assert.deepEqual(
      values.map((v) => v.value),
      Array.from({ length: 10 }, (_, i) => i),
    );
    assert.ok(
      sizes.every((size) => size >= 1 && size <= 4),
      String(sizes),
    );
    assert.equal(closes, 1);
  });

  test('live progress shows the workers an executor reports, and its redeliveries', async () => {
    let answered = 0;
    let shown!: () => void;
    const progressShowedTen = new Promise<void>((resolve) => {
      shown = resolve;
    });
    const reporting: ExecutorProvider = {
      open<In, Out>(resolved: Parameters<ExecutorProvider['open']>[0], context: { stage: string }) {
        const inner = inProcess().open<In, Out>(resolved, context);
        const executor: Executor<In, Out> = {
          execute: async (request) => {
            const outcome = await inner.execute(request);
            answered += request.items.length;
            // Holds the run open until progress has drawn the count: no race with its timer.
            // (bounded, so a progress line that never shows the workers fails the test, not hangs it).
            if (answered === 10) await Promise.race([progressShowedTen, delay(5000)]);
            return outcome;
          },
          batchSize: 5,
          capacity: 1,
          close: () => inner.close(),
          report: () => ({ workers: { 'edge-1': { done: answered, failed: 0 } }, redelivered: 2 }),
        };
        return executor;
      },
    };
    let text = '';
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (/workers edge-1 10\b/.test(text)) shown();
    });
    // The progress timer never holds a process open; a remote executor's socket would.
    const socketStandIn = setInterval(() => undefined, 1000);
    await flow(Array.from({ length: 10 }, (_, i): Step => ({ op: 'echo', value: i })))
      .map(cpu<Step, unknown>(task, { executor: reporting }), { name: 'step' })
      .run({ progress: { stream, intervalMs: 10 } })
      .finally(() => clearInterval(socketStandIn));
    assert.match(text, /step .*workers edge-1 10 {2}redelivered 2/);
  });

  test('a provider whose open() returns no Executor fails the run as the stage starts, naming it', async () => {
    let opened = 0;
    const broken = {
      open: () => {
        opened++;
        return { execute: () => Promise.resolve({ values: [], errors: undefined }) };
      },
    } as unknown as ExecutorProvider;
    let called = 0;
    const error = await flow([1, 2, 3])
      .map(cpu(task, { executor: broken }), { name: 'remote' })
      .map(() => called++)
      .run()
      .catch((e: unknown) => e);
    assert.ok(isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_TYPE'), String(error));
    assert.match(
      (error as Error).message,
      /Stage "remote": the executor provider's open\(\) must return an Executor, with a close\(\) method/,
    );
    assert.equal(opened, 1);
    assert.equal(called, 0);
  });

  test('an executor option that is not a provider is refused when cpu() is called', () => {
    for (const bad of [threads, 'threads', {}, { open: 1 }, null]) {
      assert.throws(
        () => cpu(task, { executor: bad as unknown as ExecutorProvider }),
        (error) => isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_TYPE') && /cpu\.executor/.test(error.message),
        String(bad),
      );
    }
  });

  test('an executor with pool options is refused: those configure the default executor', () => {
    assert.throws(
      () => cpu(task, { executor: inProcess(), workers: 2 }),
      (error) => isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_VALUE') && /"workers"/.test(error.message),
    );
  });

  test('threads() and processes() check their options where they are written', () => {
    assert.throws(
      () => threads({ workers: 0 }),
      (error) => isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_VALUE'),
    );
    assert.throws(
      () => threads({ isolation: 'process' } as never),
      (error) => isSluiceError(error, 'SLUICE_ERR_UNKNOWN_OPTION'),
    );
    assert.throws(
      () => processes({ resourceLimits: {} } as never),
      (error) => isSluiceError(error, 'SLUICE_ERR_UNKNOWN_OPTION'),
    );
  });

  test('processes() refuses headStart: true, which would run items in the calling process', () => {
    const refused = (error: unknown): boolean =>
      isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_VALUE') &&
      error instanceof RangeError &&
      /"headStart" option .*calling thread.* Received true/.test(error.message);
    assert.throws(() => processes({ workers: 1, headStart: true } as never), refused);
    assert.throws(() => cpu(task, { isolation: 'process', headStart: true }), refused);
    assert.throws(() => new WorkerPool(task, { isolation: 'process', headStart: true }), refused);
    // What is not a head start is still accepted.
    assert.doesNotThrow(() => processes({ workers: 1, headStart: false }));
    assert.doesNotThrow(() => cpu(task, { isolation: 'process', headStart: false }));
    assert.doesNotThrow(() => cpu(task, { headStart: true }));
  });
});
