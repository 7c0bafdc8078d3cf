/**
 * The executor conformance suite: the behaviours every executor provider must show, whatever runs
 * the work (worker threads, child processes, the calling thread, remote workers). The flow relies
 * on each of them; a provider that passes can be given to `cpu(url, { executor })`.
 *
 * - ordering: one outcome per item, in the request's order, each task told its index and attempt;
 * - per-item errors: a failing item fails alone, and its error arrives as its own class, with its
 *   code, fields, report and cause chain (every class in the errors table);
 * - cancellation: aborting a request's signal rejects it at once, and the executor works on;
 * - timeouts: an item past its deadline fails with SLUICE_ERR_TIMEOUT, its neighbours do not;
 * - crash and retry (providers whose workers can die): a worker death is retried, an item that
 *   always kills its worker ends with SLUICE_ERR_WORKER_CRASHED;
 * - close: pending requests reject with SLUICE_ERR_POOL_CLOSED, later ones too, and a process that
 *   closed its executor exits on its own;
 * - a real flow with retry, onError and ordering reports the same counts as on every other provider.
 *
 * Joining it (a NATS JetStream provider, say): write a module that exports a function returning a
 * fresh provider, and a test file that calls
 *
 *     executorConformance({
 *       name: 'jetstream',
 *       factory: new URL('./jetstream-factory.ts', import.meta.url), // exports `jetstream()`
 *       exportName: 'jetstream',
 *       crashes: true,
 *       dispose: (provider) => (provider as JetStreamProvider).close(),
 *     });
 *
 * Executors are opened on `test/fixtures/tasks/conformance.task.ts`, so remote workers must serve
 * that module (with crashes: their worker process must come back, and `maxCrashRetries` must be
 * 1 or more). The factory is named by module, not passed as a function, because the exit test
 * imports it again in a child process. Each test opens its own executor: names derived from the
 * stage (`conformance-<n>`) are unique within a run of the suite.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { errorNames } from '../../src/core/errors.js';
import {
  cpu,
  type Executor,
  type ExecutorProvider,
  flow,
  isSluiceError,
  type ResolvedTask,
  SluiceError,
} from '../../src/index.js';
import type { Echo, Step } from '../fixtures/tasks/conformance.task.js';

export interface ConformanceTarget {
  /** The provider's name in test titles. */
  readonly name: string;
  /** A module whose export `exportName` returns a fresh provider when called without arguments. */
  readonly factory: URL;
  readonly exportName: string;
  /** Whether the provider's workers can die (and so must recover): false for the calling thread. */
  readonly crashes: boolean;
  /** Releases what a provider holds of its own (a connection), after the tests that made it. */
  readonly dispose?: (provider: ExecutorProvider) => Promise<void>;
}

const taskUrl = new URL('../fixtures/tasks/conformance.task.ts', import.meta.url);
export const conformanceTask: ResolvedTask = { url: taskUrl.href, path: fileURLToPath(taskUrl) };
const exitScript = fileURLToPath(new URL('./conformance-exit.ts', import.meta.url));

const echo = (value: unknown): Step => ({ op: 'echo', value });

export function executorConformance(target: ConformanceTarget): void {
  const providers: ExecutorProvider[] = [];
  let opened = 0;
  const provider = async (): Promise<ExecutorProvider> => {
    const module = (await import(target.factory.href)) as Record<string, () => ExecutorProvider>;
    const make = module[target.exportName];
    assert.equal(typeof make, 'function', `${target.factory.href} exports no ${target.exportName}()`);
    const made = (make as () => ExecutorProvider)();
    providers.push(made);
    return made;
  };
  /** Opens an executor, runs `body` with it, and closes it whatever happens. */
  const withExecutor = async (body: (executor: Executor<Step, unknown>) => Promise<void>): Promise<void> => {
    const executor = (await provider()).open<Step, unknown>(conformanceTask, {
      stage: `conformance-${++opened}`,
    });
    try {
      await body(executor);
    } finally {
      await executor.close();
    }
  };

  describe(`executor conformance: ${target.name}`, () => {
    after(async () => {
      if (target.dispose !== undefined) for (const made of providers) await target.dispose(made);
    });

    test('open() returns an Executor that asks for batches of at least one item', () =>
      withExecutor(async (executor) => {
        assert.equal(typeof executor.execute, 'function');
        assert.ok(
          Number.isInteger(executor.batchSize) && executor.batchSize >= 1,
          String(executor.batchSize),
        );
        assert.ok(Number.isInteger(executor.capacity) && executor.capacity >= 1, String(executor.capacity));
        await executor.ready?.();
      }));

    test('ordering: outcomes come back in each request’s order, with the index and attempt given', () =>
      withExecutor(async (executor) => {
        const requests = [0, 1_000, 2_000].map((first) =>
          executor.execute({
            items: Array.from({ length: 150 }, (_, i) => echo(first + i)),
            first,
            attempt: first === 2_000 ? 3 : 1,
          }),
        );
        for (const [r, outcome] of (await Promise.all(requests)).entries()) {
          const first = r * 1_000;
          assert.ok(outcome.errors === undefined || outcome.errors.every((e) => e === undefined));
          assert.deepEqual(
            outcome.values,
            Array.from(
              { length: 150 },
              (_, i): Echo => ({
                value: first + i,
                index: first + i,
                attempt: first === 2_000 ? 3 : 1,
              }),
            ),
          );
        }
      }));

    test('per-item errors: each failing item fails alone, keeping its message, code and fields', () =>
      withExecutor(async (executor) => {
        const items: Step[] = [
          echo('a'),
          { op: 'throw', message: 'one' },
          echo('b'),
          { op: 'throw', message: 'two' },
        ];
        const { values, errors } = await executor.execute({ items, first: 10 });
        assert.ok(errors !== undefined);
        assert.equal(errors[0], undefined);
        assert.equal(errors[2], undefined);
        assert.deepEqual(
          [values[0], values[2]],
          [
            { value: 'a', index: 10, attempt: 1 },
            { value: 'b', index: 12, attempt: 1 },
          ],
        );
        for (const [i, message] of [
          [1, 'one'],
          [3, 'two'],
        ] as const) {
          const error = errors[i] as Error & { code?: string; detail?: unknown };
          assert.ok(error instanceof Error, String(error));
          assert.equal(error.message, message);
          assert.equal(error.code, 'E_CONFORMANCE');
          assert.deepEqual(error.detail, { index: 10 + i });
          assert.match(String(error.stack), /conformance\.task/);
        }
      }));

    test('per-item errors: every coded error class arrives as itself, with its fields, report and causes', () =>
      withExecutor(async (executor) => {
        const items: Step[] = errorNames.map((name) => ({ op: 'throw-class', name }));
        const { errors } = await executor.execute({ items, first: 0 });
        for (const [i, name] of errorNames.entries()) {
          const error = errors?.[i] as SluiceError & { path?: string; report?: unknown };
          const Class = (await import('../../src/index.js'))[name] as unknown as abstract new () => Error;
          assert.ok(error instanceof Class, `${name}: got ${String(error)}`);
          assert.ok(error instanceof SluiceError);
          assert.equal(error.name, name);
          assert.equal(error.code, (Class as unknown as { code: string }).code);
          assert.equal(error.message, `a ${name} from the task`);
          assert.deepEqual(
            [error.stage, error.index, error.attempts, error.path],
            ['remote', i, 2, '/tmp/conformance'],
          );
          assert.deepEqual(error.report, { status: 'failed', stages: [] });
          const cause = error.cause as Error;
          assert.ok(isSluiceError(cause, 'SLUICE_ERR_TIMEOUT'), String(cause));
          assert.equal(cause.message, 'the cause');
          assert.equal((cause.cause as Error).message, 'the root cause');
        }
      }));

    test('cancellation: aborting the signal rejects the request at once; the executor works on', () =>
      withExecutor(async (executor) => {
        await executor.ready?.();
        const controller = new AbortController();
        const pending = executor.execute({
          items: [{ op: 'sleep', ms: 60_000 }, echo(1)],
          first: 0,
          signal: controller.signal,
        });
        setTimeout(() => controller.abort(), 20);
        await assert.rejects(pending, (error) => isSluiceError(error, 'SLUICE_ERR_ABORTED'));
        await assert.rejects(
          executor.execute({ items: [echo(2)], first: 0, signal: AbortSignal.abort() }),
          (error) => isSluiceError(error, 'SLUICE_ERR_ABORTED'),
        );
        const after = await executor.execute({ items: [echo(3)], first: 5 });
        assert.deepEqual(after.values, [{ value: 3, index: 5, attempt: 1 }]);
      }));

    test('timeouts: an item past its deadline fails with SLUICE_ERR_TIMEOUT; its neighbours succeed', () =>
      withExecutor(async (executor) => {
        await executor.ready?.();
        const { values, errors } = await executor.execute({
          items: [echo('before'), { op: 'sleep', ms: 60_000 }, echo('after')],
          first: 0,
          timeout: 100,
        });
        assert.ok(isSluiceError(errors?.[1], 'SLUICE_ERR_TIMEOUT'), String(errors?.[1]));
        assert.deepEqual(
          [values[0], values[2]].map((v) => (v as Echo).value),
          ['before', 'after'],
        );
        assert.equal(errors?.[0], undefined);
        assert.equal(errors?.[2], undefined);
      }));

    if (target.crashes) {
      test('crash and retry: a worker that dies is replaced and its item retried', () =>
        withExecutor(async (executor) => {
          const folder = mkdtempSync(join(tmpdir(), 'sluice-conformance-'));
          try {
            const items: Step[] = [echo(0), { op: 'crash-once', marker: join(folder, 'marker') }, echo(2)];
            const { values, errors } = await executor.execute({ items, first: 0 });
            assert.ok(errors === undefined || errors.every((e) => e === undefined), String(errors));
            assert.deepEqual(
              values.map((v) => (typeof v === 'object' ? (v as Echo).value : v)),
              [0, 'survived', 2],
            );
          } finally {
            rmSync(folder, { recursive: true, force: true });
          }
        }));

      test('crash and retry: an item that always kills its worker ends with SLUICE_ERR_WORKER_CRASHED', () =>
        withExecutor(async (executor) => {
          const items: Step[] = [echo(0), { op: 'crash' }, echo(2)];
          const { values, errors } = await executor.execute({ items, first: 40 });
          assert.ok(isSluiceError(errors?.[1], 'SLUICE_ERR_WORKER_CRASHED'), String(errors?.[1]));
          assert.equal((errors?.[1] as SluiceError | undefined)?.index, 41);
          assert.deepEqual(
            [values[0], values[2]].map((v) => (v as Echo).value),
            [0, 2],
          );
        }));
    }

    test('close: pending requests reject with SLUICE_ERR_POOL_CLOSED, and so do later ones', async () => {
      const executor = (await provider()).open<Step, unknown>(conformanceTask, {
        stage: `conformance-${++opened}`,
      });
      await executor.ready?.();
      const pending = executor.execute({ items: [{ op: 'sleep', ms: 60_000 }], first: 0 });
      // Let the item reach its worker before the executor closes under it.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const rejected = assert.rejects(pending, (error) => isSluiceError(error, 'SLUICE_ERR_POOL_CLOSED'));
      await executor.close();
      await rejected;
      await assert.rejects(executor.execute({ items: [echo(1)], first: 0 }), (error) =>
        isSluiceError(error, 'SLUICE_ERR_POOL_CLOSED'),
      );
    });

    test('close: a process that closed its executor exits on its own', async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [...process.execArgv, exitScript, target.factory.href, target.exportName, conformanceTask.url],
        // A hang guard, not a timing assertion: an executor that keeps the process alive never exits.
        { timeout: 30_000, killSignal: 'SIGKILL', env: process.env },
      );
      assert.deepEqual(JSON.parse(stdout), [{ value: 'exit', index: 0, attempt: 1 }]);
    });

    test('a flow with retry, onError: skip and ordering counts every item the same on every provider', async () => {
      const items: Step[] = Array.from({ length: 30 }, (_, i): Step => {
        if (i % 10 === 3) return { op: 'flaky', failures: 1 };
        if (i % 10 === 7) return { op: 'throw', message: `item ${i}` };
        return echo(i);
      });
      const sink = flow(items).map(cpu<Step, unknown>(taskUrl, { executor: await provider() }), {
        name: 'conformance',
        retry: { attempts: 2, baseDelayMs: 1, jitter: false },
        onError: 'skip',
        ordered: true,
      });
      const results: unknown[] = [];
      const report = await sink.forEach((value) => {
        results.push(value);
      });
      assert.deepEqual(
        results,
        items
          .map((step, i) =>
            step.op === 'flaky' ? 2 : step.op === 'echo' ? { value: i, index: i, attempt: 1 } : undefined,
          )
          .filter((v) => v !== undefined),
      );
      const stage = report.stages.find((s) => s.name === 'conformance');
      assert.deepEqual(flowCounts(stage), expectedFlowCounts);
    });
  });
}

/** What the flow test's report must say, on every provider: 30 items, 3 flaky (retried once), 3 failing (retried once, then skipped). */
export const expectedFlowCounts = {
  entered: 30,
  emitted: 27,
  skipped: 3,
  deadLettered: 0,
  failed: 0,
  cancelled: 0,
  retries: 6,
  timeouts: 0,
};

/** The counts of a stage report that must not depend on where the stage ran. */
export function flowCounts(
  stage: Record<keyof typeof expectedFlowCounts, number> | undefined,
): typeof expectedFlowCounts {
  assert.ok(stage !== undefined);
  const { entered, emitted, skipped, deadLettered, failed, cancelled, retries, timeouts } = stage;
  return { entered, emitted, skipped, deadLettered, failed, cancelled, retries, timeouts };
}
