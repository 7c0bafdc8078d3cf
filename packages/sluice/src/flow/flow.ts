/**
 * The public face of the flow engine. A Flow is an immutable description: each stage method
 * returns a new Flow, and nothing runs until a terminal (`run`, `collect`, `reduce`, `forEach`,
 * async iteration) starts a Run. A Flow over an array can be run again; one over an iterator or a
 * stream can be read once.
 */
import type { Readable } from 'node:stream';
import { SinkStartedError } from '../core/errors.js';
import { checkFunction, checkInteger, checkOptions, invalidType } from '../core/validate.js';
import { type CpuTask, isCpuTask } from '../exec/cpu.js';
import type { RunReport } from '../observe/run-report.js';
import { flowReadable } from './flow-readable.js';
import {
  type CheckedRunOptions,
  checkRunOptions,
  Run,
  type RunOptions,
  runOptionKeys,
  type Terminal,
} from './run.js';
import { checkSource, type Source } from './source.js';
import { batchSpec, cpuSpec, type LaneKind, laneSpec, type StageSpec } from './stage-spec.js';
import type { BatchOptions, CpuStageOptions, StageContext, StageOptions } from './types.js';

/**
 * collect() keeps outputs in arrays made at their full size and filled in place (the first of
 * FIRST_COLLECT_CHUNK, each next twice the last, up to COLLECT_CHUNK), and joins them once at the
 * end: one copy, one pause, after the last output. One growing array was copied whole each time it
 * outgrew its store (2.3, 3.5, 5.2, 7.8 MB for a million numbers), each copy a pause of the event
 * loop in the middle of the run, and on a machine whose fresh memory is dear (bench/RESULTS.md)
 * the last one alone took 30 ms. Chunks that grew by `push` still took fresh memory for every
 * store they outgrew: a million results took 1,700 more page faults than chunks made at their size.
 * When the number of outputs is bounded before the run (an array through map, tap or cpu stages),
 * the first chunk is made at that bound: the whole result, trimmed to what came, joined with nothing.
 */
const FIRST_COLLECT_CHUNK = 64;
const COLLECT_CHUNK = 65_536;
/**
 * The most places collect() sets aside before the run (128 MB of references): an array of tens of
 * millions read by a run that is aborted early should not cost their whole result at its start.
 */
const MOST_SET_ASIDE = 2 ** 24;
/** Arrays one concat() joins: it takes them as arguments, and a call's arguments are bounded. */
const JOIN_AT_ONCE = 4_096;

/**
 * The chunks' elements in one array, in order (a chunk's own elements are never spread), joined
 * `atOnce` (at least 2) chunks a concat() call. Exported for its tests, not by the package.
 */
export function joined<T>(chunks: T[][], atOnce = JOIN_AT_ONCE): T[] {
  if (chunks.length <= atOnce) return ([] as T[]).concat(...chunks);
  const parts: T[][] = [];
  for (let i = 0; i < chunks.length; i += atOnce) parts.push(joined(chunks.slice(i, i + atOnce), atOnce));
  return joined(parts, atOnce);
}

/**
 * Starts a flow over a source: an Iterable, an AsyncIterable, a Node Readable or a web ReadableStream.
 * @example
 * const report = await flow(urls)
 *   .map(fetchJson, { concurrency: 32, retry: 3, timeout: 10_000 })
 *   .batch({ size: 500, maxWaitMs: 200 })
 *   .forEach(saveBatch)
 *   .run();
 */
export function flow<T>(source: Source<T>): Flow<T> {
  checkSource(source);
  return new Flow<T>(source, []);
}

/** Reads a flow's parts; set by Flow's static block, for `tunableStage` below. */
let partsOf: (f: Flow<unknown>) => { source: Source<unknown>; stages: readonly StageSpec[] };

export class Flow<T> implements AsyncIterable<T> {
  readonly #source: Source<unknown>;
  readonly #stages: readonly StageSpec[];

  static {
    partsOf = (f) => ({ source: f.#source, stages: f.#stages });
  }

  /** @internal Use `flow(source)`. */
  constructor(source: Source<unknown>, stages: readonly StageSpec[]) {
    this.#source = source;
    this.#stages = stages;
  }

  #with<U>(spec: StageSpec): Flow<U> {
    return new Flow<U>(this.#source, [...this.#stages, spec]);
  }

  #lane<U>(kind: LaneKind, fn: unknown, options: unknown): Flow<U> {
    return this.#with<U>(laneSpec(kind, this.#stages.length, fn, options));
  }

  /**
   * Transforms each item with `fn`, up to `concurrency` at once; or, given `cpu(url)`, with a task
   * module on a pool of worker threads, so the computing happens off the event loop.
   * @example flow(ids).map((id, { signal }) => fetchUser(id, { signal }), { concurrency: 16 })
   * @example flow(raws).map(cpu<Raw, Asset>(new URL('./normalize.task.js', import.meta.url)))
   */
  map<U>(task: CpuTask<T, U>, options?: CpuStageOptions<T>): Flow<U>;
  map<U>(fn: (item: T, ctx: StageContext) => U | PromiseLike<U>, options?: StageOptions<T>): Flow<U>;
  map<U>(
    fn: CpuTask<T, U> | ((item: T, ctx: StageContext) => U | PromiseLike<U>),
    options?: StageOptions<T> | CpuStageOptions<T>,
  ): Flow<U> {
    if (isCpuTask(fn)) return this.#with<U>(cpuSpec(this.#stages.length, fn, options));
    return this.#lane<U>('map', fn, options);
  }

  /**
   * Keeps the items for which `fn` is truthy. Dropped items are counted as `filtered`.
   * @example flow(rows).filter((row) => row.active)
   */
  filter<S extends T>(fn: (item: T, ctx: StageContext) => item is S, options?: StageOptions<T>): Flow<S>;
  filter(fn: (item: T, ctx: StageContext) => unknown, options?: StageOptions<T>): Flow<T>;
  filter(fn: (item: T, ctx: StageContext) => unknown, options?: StageOptions<T>): Flow<T> {
    return this.#lane<T>('filter', fn, options);
  }

  /**
   * Replaces each item with every value of the iterable `fn` returns (an array, a generator, an
   * async generator). With `ordered`, each item's values come out together, in input order.
   * @example flow(providers).flatMap(async function* (p) { yield* await listPages(p) }, { concurrency: 8 })
   */
  flatMap<U>(
    fn: (
      item: T,
      ctx: StageContext,
    ) => Iterable<U> | AsyncIterable<U> | PromiseLike<Iterable<U> | AsyncIterable<U>>,
    options?: StageOptions<T>,
  ): Flow<U> {
    return this.#lane<U>('flatMap', fn, options);
  }

  /**
   * Calls `fn` for its side effect and passes the item on unchanged, once `fn` has finished.
   * @example flow(items).tap((item) => log.debug(item))
   */
  tap(fn: (item: T, ctx: StageContext) => unknown, options?: StageOptions<T>): Flow<T> {
    return this.#lane<T>('tap', fn, options);
  }

  /**
   * Groups items into arrays of `size`; `maxWaitMs` sends a partial batch once its first item has waited that long.
   * @example flow(rows).batch({ size: 500, maxWaitMs: 200 })
   */
  batch(options: BatchOptions): Flow<T[]> {
    return this.#with<T[]>(batchSpec(this.#stages.length, options));
  }

  /**
   * Consumes each item with `fn`. Await the result, or call `.run(options)` on it to pass a signal.
   * @example await flow(batches).forEach(saveBatch, { concurrency: 2 }).run({ signal });
   */
  forEach(fn: (item: T, ctx: StageContext) => unknown, options?: StageOptions<T>): Sink {
    return new Sink(this.#lane<never>('forEach', fn, options));
  }

  /**
   * Runs the flow to the end, discarding its output, and resolves with the report. Rejects with a
   * coded SluiceError (carrying `.report`) when the run fails or is aborted.
   */
  async run(options?: RunOptions): Promise<RunReport> {
    const run = this.#start(options, 'discard');
    await run.drain();
    return run.report();
  }

  /** Runs the flow and resolves with every output, in order. */
  async collect(options?: RunOptions): Promise<T[]> {
    const chunks: T[][] = [];
    // Made at its full size, the first chunk is the whole result, joined with nothing.
    let chunk: T[] = new Array(Math.min(this.#outputsAtMost() || FIRST_COLLECT_CHUNK, MOST_SET_ASIDE));
    let at = 0;
    await this.#start(options, (value) => {
      if (at === chunk.length) {
        chunks.push(chunk);
        chunk = new Array(Math.min(COLLECT_CHUNK, 2 * at));
        at = 0;
      }
      chunk[at++] = value;
    }).drain();
    chunk.length = at;
    if (chunks.length === 0) return chunk;
    chunks.push(chunk);
    return joined(chunks);
  }

  /**
   * The most outputs a run can give, when that is known before it starts: an array's length,
   * through stages that give at most one output an item (map, tap, cpu). A filter gives no more
   * either, but may keep a few of millions: what collect() sets aside for its outputs should
   * follow what they take. The array may still grow while the run reads it (collect() then
   * gathers the rest in chunks).
   */
  #outputsAtMost(): number | undefined {
    if (!Array.isArray(this.#source)) return undefined;
    for (const stage of this.#stages)
      if (stage.kind !== 'map' && stage.kind !== 'tap' && stage.kind !== 'cpu') return undefined;
    return this.#source.length;
  }

  /**
   * Folds the outputs into one value.
   * @example const total = await flow(orders).reduce((sum, o) => sum + o.amount, 0);
   */
  async reduce<A>(fn: (accumulator: A, item: T) => A, initial: A, options?: RunOptions): Promise<A> {
    checkFunction('reduce(fn)', fn);
    let accumulator = initial;
    await this.#start(options, (value) => {
      accumulator = fn(accumulator, value);
    }).drain();
    return accumulator;
  }

  /** Runs the flow as it is read. Leaving the loop early (break, throw) stops the run cleanly. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    let run: Run<T> | undefined;
    return {
      next: (): Promise<IteratorResult<T>> => {
        run ??= this.#start(undefined);
        return run.next();
      },
      return: async (): Promise<IteratorResult<T>> => {
        run?.cancel();
        return { value: undefined, done: true };
      },
    };
  }

  /**
   * A Node Readable in object mode over the flow's output. The run starts at the first read and
   * takes the run options (`signal`, `progress`, `logger`, `clock`); destroying the stream stops
   * it, and a run that fails destroys the stream with its error. The stream holds up to
   * `highWaterMark` outputs ahead of its reader (16 by default); a `null` output fails the run
   * with SLUICE_ERR_TERMINAL, since a Node stream ends at null.
   * @example flow(rows).map(toCsvLine).toReadable().pipe(createWriteStream('out.csv'))
   */
  toReadable(options?: { highWaterMark?: number } & RunOptions): Readable {
    checkOptions('toReadable options', options, ['highWaterMark', ...runOptionKeys]);
    const { highWaterMark, ...runOptions } = options ?? {};
    if (highWaterMark !== undefined) checkInteger('highWaterMark', highWaterMark, { min: 1 });
    const checked = checkRunOptions(runOptions);
    return flowReadable(() => this.#startChecked(checked), highWaterMark);
  }

  #start(options: RunOptions | undefined, terminal: Terminal<T> = 'read'): Run<T> {
    return this.#startChecked(checkRunOptions(options), terminal);
  }

  #startChecked(options: CheckedRunOptions, terminal: Terminal<T> = 'read'): Run<T> {
    return new Run<T>(this.#source, this.#stages, options, terminal);
  }
}

/**
 * A flow that ends in `forEach`. It starts like a promise does, on its own: await it for the
 * report. To pass run options, call `.run(options)` in the same expression, before it starts.
 */
/** Takes a Sink's flow for `sluice tune` without running it; set by Sink's static block. */
let claimSink: (sink: Sink) => Flow<unknown> | undefined;

export class Sink implements PromiseLike<RunReport> {
  readonly #flow: Flow<never>;
  #started: Promise<RunReport> | undefined;

  static {
    claimSink = (sink) => {
      if (sink.#started !== undefined) return undefined;
      const taken = Promise.reject(new SinkStartedError('This forEach was taken apart by sluice tune'));
      taken.catch(() => undefined);
      sink.#started = taken;
      return sink.#flow;
    };
  }

  /** @internal */
  constructor(flow: Flow<never>) {
    this.#flow = flow;
    queueMicrotask(() => {
      this.#started ??= this.#flow.run();
    });
  }

  /**
   * Runs the flow with options and resolves with the report.
   * @example await flow(batches).forEach(save).run({ signal });
   */
  run(options?: RunOptions): Promise<RunReport> {
    if (this.#started !== undefined) {
      return options === undefined
        ? this.#started
        : Promise.reject(
            new SinkStartedError(
              'This forEach has already started: call .run(options) right after .forEach(...)',
            ),
          );
    }
    this.#started = this.#flow.run(options);
    return this.#started;
  }

  // biome-ignore lint/suspicious/noThenProperty: a Sink is awaitable by design, like a promise.
  then<A = RunReport, B = never>(
    onFulfilled?: ((report: RunReport) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.run().then(onFulfilled, onRejected);
  }
}

/** A stage of a flow, as `sluice tune` sweeps it: its function, its policies, and what feeds it. */
export interface TunableStage {
  readonly name: string;
  readonly fn: (item: unknown, ctx: StageContext) => unknown;
  readonly options: Pick<StageOptions<unknown>, 'retry' | 'timeout' | 'rateLimit'>;
  /** The flow up to the stage: its output is the stage's input. */
  readonly upstream: Flow<unknown>;
}

/**
 * The lane stage called `name` (by default the first lane stage) of a flow, as `tune()` can sweep
 * it: its function, its retry, timeout and rate limit, and the flow that feeds it. Undefined when
 * there is none; cpu() and batch stages set their own concurrency. A `Sink` (what `forEach`
 * returns) is claimed, so it does not start itself.
 *
 * @example
 * const stage = tunableStage(flow(urls).map(fetchPage), 'map');
 * if (stage) await tune({ fn: stage.fn, options: stage.options }, { items: await stage.upstream.collect() });
 */
export function tunableStage(target: Flow<unknown> | Sink, name?: string): TunableStage | undefined {
  if (!(target instanceof Flow) && !(target instanceof Sink)) {
    throw invalidType('tunableStage(target)', 'a Flow or the Sink forEach() returns', target);
  }
  if (name !== undefined && typeof name !== 'string')
    throw invalidType('tunableStage(name)', 'a string', name);
  // A Sink must be claimed in the turn it was made: left alone, it starts itself on a microtask.
  const f = target instanceof Sink ? claimSink(target) : target;
  if (f === undefined) return undefined;
  const { source, stages } = partsOf(f);
  const index = stages.findIndex(
    (s) => s.kind !== 'batch' && s.kind !== 'cpu' && (name === undefined || s.name === name),
  );
  const spec = stages[index];
  if (spec === undefined || spec.kind === 'batch' || spec.kind === 'cpu') return undefined;
  return {
    name: spec.name,
    fn: spec.fn,
    options: {
      ...(spec.retry === undefined ? {} : { retry: spec.retry }),
      ...(spec.timeout === undefined ? {} : { timeout: spec.timeout }),
      ...(spec.rateLimit === undefined ? {} : { rateLimit: spec.rateLimit }),
    },
    upstream: new Flow<unknown>(source, stages.slice(0, index)),
  };
}
