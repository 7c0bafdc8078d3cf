/**
 * Type tests for the public API: this file is checked by `tsc` with the rest of the suite, so a
 * change that loosens or breaks an inferred type fails `npm test`. The runtime test only makes
 * sure the file loads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cpu,
  defineTask,
  type Flow,
  flow,
  inProcess,
  map,
  mapSkip,
  processes,
  type RunReport,
  type Sink,
  type SluiceError,
  type StageContext,
  StageError,
  type TaskContext,
  type TaskDefinition,
  threads,
  WorkerPool,
} from '../src/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_proof?: T): void => undefined;

test('public types infer as documented', async () => {
  const numbers = flow([1, 2, 3]);
  expectType<Equal<typeof numbers, Flow<number>>>();

  const strings = numbers.map(async (n, ctx) => {
    expectType<Equal<typeof ctx, StageContext>>();
    return String(n);
  });
  expectType<Equal<typeof strings, Flow<string>>>();

  const narrowed = flow<string | number>(['a', 1]).filter((x): x is string => typeof x === 'string');
  expectType<Equal<typeof narrowed, Flow<string>>>();

  const flattened = numbers.flatMap(async function* (n) {
    yield { n };
  });
  expectType<Equal<typeof flattened, Flow<{ n: number }>>>();

  const batched = numbers.batch({ size: 2 });
  expectType<Equal<typeof batched, Flow<number[]>>>();

  const sink = numbers.forEach(() => undefined);
  expectType<Equal<typeof sink, Sink>>();
  expectType<Equal<Awaited<typeof sink>, RunReport>>();
  sink.then(() => undefined);

  expectType<Equal<ReturnType<typeof numbers.collect>, Promise<number[]>>>();
  expectType<Equal<ReturnType<typeof numbers.run>, Promise<RunReport>>>();

  const mapped = map([1, 2], (n) => (n > 1 ? String(n) : mapSkip));
  expectType<Equal<typeof mapped, Promise<string[]>>>();

  const error = new StageError('x');
  expectType<Equal<typeof error.code, 'SLUICE_ERR_STAGE'>>();
  const base: SluiceError = error;

  // @ts-expect-error concurrency is a number
  assert.throws(() => numbers.map((n) => n, { concurrency: '4' }));
  // @ts-expect-error the stage function receives the flow's item type
  void numbers.map((s: string) => s.length);
  // @ts-expect-error batch needs a size
  assert.throws(() => numbers.batch({}));

  const squareTask = new URL('./fixtures/tasks/square.task.js', import.meta.url);
  const squared = numbers.map(cpu<number, { square: number }>(squareTask));
  expectType<Equal<typeof squared, Flow<{ square: number }>>>();
  // @ts-expect-error a cpu() stage's input type must match the flow's items
  void strings.map(cpu<number, number>(squareTask));
  // @ts-expect-error a cpu() stage has no concurrency: the pool decides
  assert.throws(() => numbers.map(cpu<number, number>(squareTask), { concurrency: 2 }));
  const onProcesses = numbers.map(cpu<number, number>(squareTask, { executor: processes({ workers: 1 }) }));
  expectType<Equal<typeof onProcesses, Flow<number>>>();
  void cpu(squareTask, { executor: threads() });
  void cpu(squareTask, { executor: inProcess() });
  // @ts-expect-error an executor is a provider, not a pool
  assert.throws(() => cpu(squareTask, { executor: new Set() }));
  // @ts-expect-error processes() run no threads: no resourceLimits
  assert.throws(() => processes({ resourceLimits: {} }));
  // @ts-expect-error processes() have no head start: it would run items on the calling thread
  assert.throws(() => processes({ headStart: true }));
  const task = defineTask(
    (n: number, ctx) => {
      expectType<Equal<typeof ctx, TaskContext<{ k: number }>>>();
      return n * ctx.state.k;
    },
    { setup: () => ({ k: 2 }) },
  );
  expectType<Equal<typeof task, TaskDefinition<number, number, { k: number }>>>();
  const pool = new WorkerPool<number, string>(squareTask, { workers: 1 });
  expectType<Equal<ReturnType<typeof pool.run>, Promise<string>>>();
  expectType<Equal<ReturnType<typeof pool.runMany>, Promise<string[]>>>();
  await pool.close();

  assert.equal(base.code, 'SLUICE_ERR_STAGE');
  await Promise.all([mapped, sink]);
});
