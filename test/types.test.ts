/**
 * Type tests for the public API: this file is checked by `tsc` with the rest of the suite, so a
 * change that loosens or breaks an inferred type fails `npm test`. The runtime test only makes
 * sure the file loads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Flow,
  flow,
  map,
  mapSkip,
  type RunReport,
  type Sink,
  type SluiceError,
  type StageContext,
  StageError,
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

  assert.equal(base.code, 'SLUICE_ERR_STAGE');
  await Promise.all([mapped, sink]);
});
