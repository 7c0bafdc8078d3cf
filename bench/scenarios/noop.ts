/**
 * One contender of the no-op benchmark, in a process of its own so peak RSS is its own:
 * N async no-op items through one map step at concurrency C. The `sluice-*` terminal contenders
 * (`sluice-reduce`, `sluice-collect`, ...) consume every result, as users do, and are held
 * against a bare loop that sums the results and against p-map, which also returns every result.
 *   node --import tsx bench/scenarios/noop.ts <contender> [items] [concurrency]
 * Prints one JSON line (timed-contender.ts): { contender, items, seconds, itemsPerSecond, cpuSeconds, peakRssMb }.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import pMap from 'p-map';
import { flow, map } from 'sluice';
import { sampling } from '../../packages/sluice/src/observe/stage-metrics.js';
import { timeContender } from './timed-contender.js';

const [contender = 'sluice-flow', itemsArg = '1000000', concurrencyArg = '64'] = process.argv.slice(2);
const items = Number(itemsArg);
const concurrency = Number(concurrencyArg);
const noop = async (x: number): Promise<number> => x;

/** A call that hands its signal on, as a fetch or a database driver is given it: the signal is read. */
const withSignal = async (x: number, ctx: { signal: AbortSignal }): Promise<number> =>
  ctx.signal.aborted ? -1 : x;

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

async function* asyncRange(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

const PAGE = 100;
/** Page p: the rows p*PAGE .. p*PAGE + PAGE - 1, as a paged API answers. */
const fetchPage = async (p: number): Promise<number[]> =>
  Array.from({ length: PAGE }, (_, i) => p * PAGE + i);

/** The sum of 0..items-1: a consuming contender proves it saw every result by reaching it. */
const expectedSum = (items * (items - 1)) / 2;
const counted = (sum: number): number => (sum === expectedSum ? items : -1);
const mapped = () => flow(range(items)).map(noop, { concurrency });
/** The items as an array, for the contenders that read one. */
const input = contender === 'sluice-collect-array' ? [...range(items)] : [];

/** An object-mode Writable that adds up what it is given, a chunk at a time when it can. */
function summing(): Writable & { sum: number } {
  const sink = new Writable({
    objectMode: true,
    write(value: number, _encoding, done) {
      sink.sum += value;
      done();
    },
    writev(chunks, done) {
      for (const { chunk } of chunks) sink.sum += chunk as number;
      done();
    },
  }) as Writable & { sum: number };
  sink.sum = 0;
  return sink;
}

const contenders: Record<string, () => Promise<number>> = {
  /** The floor: C async lanes pulling from one shared iterator, no bookkeeping at all. */
  'bare-loop': async () => {
    const iterator = range(items);
    let done = 0;
    const lane = async (): Promise<void> => {
      for (let next = iterator.next(); !next.done; next = iterator.next()) {
        await noop(next.value);
        done++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    return done;
  },
  /** The floor for terminals that consume results: the bare loop, adding up what each call returns. */
  'bare-loop-sum': async () => {
    const iterator = range(items);
    let sum = 0;
    const lane = async (): Promise<void> => {
      for (let next = iterator.next(); !next.done; next = iterator.next()) {
        // Not `sum += await ...`: that reads `sum` before the await and loses the other lanes' additions.
        const value = await noop(next.value);
        sum += value;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    return counted(sum);
  },
  /**
   * What async iteration costs by itself: a for await over an iterator of resolved promises, no
   * work, no lanes. An async reader of a flow pays this on top of the flow.
   */
  'for-await-alone': async () => {
    let i = 0;
    const iterable: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          Promise.resolve(i < items ? { value: i++, done: false } : { value: undefined, done: true }),
      }),
    };
    let sum = 0;
    for await (const x of iterable) sum += x;
    return counted(sum);
  },
  /** What collecting costs by itself: pushing every result into one growing array, then summing it. */
  'array-alone': async () => {
    const all: number[] = [];
    for (let i = 0; i < items; i++) all.push(i);
    let sum = 0;
    for (const x of all) sum += x;
    return counted(sum);
  },
  'sluice-flow': async () => {
    const report = await flow(range(items)).map(noop, { concurrency }).run();
    return report.stages[0]?.emitted ?? 0;
  },
  /** The same flow without per-call timing: the difference is what metrics cost. */
  'sluice-flow-no-metrics': async () => {
    sampling.enabled = false;
    const report = await flow(range(items)).map(noop, { concurrency }).run();
    return report.stages[0]?.emitted ?? 0;
  },
  'sluice-flow-unordered': async () => {
    const report = await flow(range(items)).map(noop, { concurrency, ordered: false }).run();
    return report.stages[0]?.emitted ?? 0;
  },
  /** Every terminal over the same map stage; each consumes (adds up) every result. */
  'sluice-run': async () => (await mapped().run()).stages[0]?.emitted ?? 0,
  'sluice-reduce': async () => counted(await mapped().reduce((sum, x) => sum + x, 0)),
  'sluice-collect': async () => {
    const all = await mapped().collect();
    let sum = 0;
    for (const x of all) sum += x;
    return counted(sum);
  },
  /**
   * The same over an array, as most jobs start: its length bounds the outputs before the run.
   * The array is made before the timer, as a program has its input before it runs the flow.
   */
  'sluice-collect-array': async () => {
    const all = await flow(input).map(noop, { concurrency }).collect();
    let sum = 0;
    for (const x of all) sum += x;
    return counted(sum);
  },
  'sluice-forEach': async () => {
    let sum = 0;
    await mapped().forEach((x) => {
      sum += x;
    });
    return counted(sum);
  },
  'sluice-for-await': async () => {
    let sum = 0;
    for await (const x of mapped()) sum += x;
    return counted(sum);
  },
  /** A flow piped into a Node stream, as ETL jobs write their output: an object-mode Writable that adds up. */
  'sluice-toReadable': async () => {
    const sink = summing();
    await pipeline(mapped().toReadable(), sink);
    return counted(sink.sum);
  },
  /** Node's own: Readable.map at the same concurrency, piped into the same Writable. */
  'Readable.map-pipe': async () => {
    const sink = summing();
    await pipeline(Readable.from(range(items)).map(noop, { concurrency }), sink);
    return counted(sink.sum);
  },
  /** Sources users read from: an async generator (a paged API, a cursor) and a Node Readable (a file, a socket). */
  'async-source-alone': async () => {
    let sum = 0;
    for await (const x of asyncRange(items)) sum += x;
    return counted(sum);
  },
  'sluice-async-source': async () =>
    counted(
      await flow(asyncRange(items))
        .map(noop, { concurrency })
        .reduce((sum, x) => sum + x, 0),
    ),
  'p-map-async-source': async () => {
    let sum = 0;
    for (const x of await pMap(asyncRange(items), noop, { concurrency })) sum += x;
    return counted(sum);
  },
  'readable-source-alone': async () => {
    let sum = 0;
    for await (const x of Readable.from(range(items))) sum += x as number;
    return counted(sum);
  },
  'sluice-readable-source': async () =>
    counted(
      await flow<number>(Readable.from(range(items)))
        .map(noop, { concurrency })
        .reduce((sum, x) => sum + x, 0),
    ),
  'Readable.map-readable-source': async () => {
    let sum = 0;
    for await (const x of Readable.from(range(items)).map(noop, { concurrency })) sum += x as number;
    return counted(sum);
  },
  /** Pages of 100 rows, each an async call, flattened into rows: `items` rows in all. */
  'sluice-flatMap': async () =>
    counted(
      await flow(range(items / PAGE))
        .flatMap(fetchPage, { concurrency })
        .reduce((sum, x) => sum + x, 0),
    ),
  'Readable.flatMap': async () => {
    let sum = 0;
    for await (const x of Readable.from(range(items / PAGE)).flatMap(fetchPage, { concurrency }))
      sum += x as number;
    return counted(sum);
  },
  /** p-map has no flatMap: the pages, then a loop over their rows. */
  'p-map-pages': async () => {
    let sum = 0;
    for (const rows of await pMap(range(items / PAGE), fetchPage, { concurrency }))
      for (const x of rows) sum += x;
    return counted(sum);
  },
  /**
   * The policies users set on a stage that calls a service: a per-call timeout (its function
   * handing `ctx.signal` on, as to fetch, or not), retries, an adaptive limit, all three.
   */
  'sluice-timeout': async () =>
    (await flow(range(items)).map(noop, { concurrency, timeout: 5_000 }).run()).stages[0]?.emitted ?? 0,
  'sluice-timeout-signal': async () =>
    (await flow(range(items)).map(withSignal, { concurrency, timeout: 5_000 }).run()).stages[0]?.emitted ?? 0,
  'sluice-retry': async () =>
    (
      await flow(range(items))
        .map(noop, { concurrency, retry: { attempts: 3 } })
        .run()
    ).stages[0]?.emitted ?? 0,
  'sluice-adaptive': async () =>
    (await flow(range(items)).map(noop, { concurrency: 'adaptive' }).run()).stages[0]?.emitted ?? 0,
  'sluice-all-policies': async () =>
    (
      await flow(range(items))
        .map(withSignal, { concurrency: 'adaptive', timeout: 5_000, retry: { attempts: 3 } })
        .run()
    ).stages[0]?.emitted ?? 0,
  /** What a p-map user writes for a per-call deadline: a timeout signal per call, handed to the function. */
  'p-map-timeout': async () =>
    (await pMap(range(items), (x) => withSignal(x, { signal: AbortSignal.timeout(5_000) }), { concurrency }))
      .length,
  'sluice-map': async () => (await map(range(items), noop, { concurrency })).length,
  'p-map': async () => (await pMap(range(items), noop, { concurrency })).length,
  /** p-map consuming its results as the sluice terminals do. */
  'p-map-sum': async () => {
    let sum = 0;
    for (const x of await pMap(range(items), noop, { concurrency })) sum += x;
    return counted(sum);
  },
  'p-limit': async () => {
    const limit = pLimit(concurrency);
    const all: Promise<number>[] = [];
    for (const i of range(items)) all.push(limit(() => noop(i)));
    return (await Promise.all(all)).length;
  },
  'Readable.map': async () => {
    let done = 0;
    for await (const _ of Readable.from(range(items)).map(noop, { concurrency })) done++;
    return done;
  },
};

await timeContender(contenders, contender, items);
