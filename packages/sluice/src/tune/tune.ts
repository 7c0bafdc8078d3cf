/**
 * Concurrency sweeps: runs the real target at each of a list of concurrency levels, through the
 * same flow engine a stage uses, and measures what each level gives (throughput) and costs
 * (latency, errors). The result is plain data, for a table, a chart or a config file.
 */
import { type Clock, systemClock } from '../core/clock.js';
import { errorMessage, InvalidArgValueError, isSluiceError } from '../core/errors.js';
import { isThenable } from '../core/thenable.js';
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkNumber,
  checkOptions,
  invalidType,
} from '../core/validate.js';
import { flow } from '../flow/flow.js';
import type { StageContext, StageOptions } from '../flow/types.js';
import type { LimitReport } from '../limit/adaptive-limiter.js';
import { kneeOf, percentile } from './knee.js';

/** What a sweep runs: a stage's function, or a function with stage options (retry, timeout, rateLimit). */
export type TuneTarget<T> =
  | ((item: T, ctx: StageContext) => unknown)
  | {
      readonly fn: (item: T, ctx: StageContext) => unknown;
      readonly options?: Omit<StageOptions<T>, 'concurrency' | 'ordered' | 'onError'>;
    };

export interface TuneOptions<T> {
  /**
   * The items to run: an array (cycled through, level after level), any other iterable (read on
   * from level to level; a level ends early when it runs out), or a function from the item's
   * number to the item.
   * @example items: (i) => `https://api.example.com/items/${i}`
   */
  items: Iterable<T> | ((i: number) => T);
  /**
   * Concurrency levels to try, in order; `'adaptive'` runs a level under the adaptive limit, for
   * comparison.
   * @default [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
   */
  levels?: readonly (number | 'adaptive')[];
  /**
   * Items per level. With `durationMs` as well, a level ends at whichever comes first.
   * @default 1000, when `durationMs` is not given
   */
  itemsPerLevel?: number;
  /** Milliseconds per level: no item starts after it, and the items in flight are waited for. */
  durationMs?: number;
  /**
   * Before timing a numeric level, run as many items as the level, so connections are open and
   * code is warm.
   * @default true
   */
  warmup?: boolean;
  /**
   * The knee is the smallest level reaching this share of the best throughput.
   * @default 0.95
   */
  kneeRatio?: number;
  /** @default the system clock */
  clock?: Clock;
}

export interface TuneLevel {
  /** The level's concurrency; for `'adaptive'`, the limit it ended at (see `limit`). */
  readonly concurrency: number;
  readonly adaptive: boolean;
  /** Items completed (succeeded or failed) in the timed part. */
  readonly items: number;
  /** Items that failed for good, after the target's retries. */
  readonly errors: number;
  /** The first of those failures, as `message (code)` when it has a code: what a sweep where everything failed reports. */
  readonly firstError?: string;
  readonly seconds: number;
  /** Items that succeeded, per second: failed calls are not throughput. */
  readonly throughput: number;
  /** Latency of calls, in ms (every attempt counts). */
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  /** For `'adaptive'`: where the limit went. */
  readonly limit?: LimitReport;
}

export interface TuneResult {
  /** One row per level, in the order run. */
  readonly levels: readonly TuneLevel[];
  /** The smallest numeric level reaching `kneeRatio` of the best numeric throughput. */
  readonly knee: number | undefined;
  /** The numeric level with the best throughput. */
  readonly best: number | undefined;
  readonly kneeRatio: number;
}

const tuneKeys = ['items', 'levels', 'itemsPerLevel', 'durationMs', 'warmup', 'kneeRatio', 'clock'] as const;
const DEFAULT_LEVELS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] as const;

/**
 * Sweeps concurrency levels against the real target and finds the knee.
 * @example
 * const { knee, levels } = await tune(fetchPage, { items: urls, levels: [8, 16, 32, 64, 128], durationMs: 5_000 });
 * console.table(levels);
 */
export async function tune<T>(target: TuneTarget<T>, options: TuneOptions<T>): Promise<TuneResult> {
  const { fn, stage, o, levels, next } = checkTune(target, options);
  const clock = o.clock ?? systemClock;
  const kneeRatio = o.kneeRatio ?? 0.95;
  const perLevel = o.itemsPerLevel ?? (o.durationMs === undefined ? 1_000 : Number.POSITIVE_INFINITY);
  const rows: TuneLevel[] = [];
  for (const level of levels) {
    const adaptive = level === 'adaptive';
    if (!adaptive && o.warmup !== false) {
      await flow(take(next, level, Number.POSITIVE_INFINITY, clock))
        .map(fn, { ...stage, concurrency: level, ordered: false, onError: 'skip' })
        .run({ clock });
    }
    const latencies: number[] = [];
    const timed = (item: T, ctx: StageContext): unknown => {
      const started = clock.now();
      const done = (): void => {
        latencies.push(clock.now() - started);
      };
      const result = fn(item, ctx);
      if (!isThenable(result)) {
        done();
        return result;
      }
      return Promise.resolve(result).finally(done);
    };
    let firstError: string | undefined;
    const started = clock.now();
    const report = await flow(take(next, perLevel, o.durationMs ?? Number.POSITIVE_INFINITY, clock))
      .map(timed, {
        ...stage,
        concurrency: level,
        ordered: false,
        onError: (_item, error) => {
          firstError ??= describeError(error);
        },
      })
      .run({ clock });
    const seconds = (clock.now() - started) / 1000;
    const s = report.stages[0];
    const errors = s?.deadLettered ?? 0;
    const items = (s?.emitted ?? 0) + errors;
    latencies.sort((a, b) => a - b);
    rows.push({
      concurrency: s?.concurrency ?? 0,
      adaptive,
      items,
      errors,
      ...(firstError === undefined ? {} : { firstError }),
      seconds,
      // Successes only: a level that answers fast with errors has not served anyone.
      throughput: seconds > 0 ? (items - errors) / seconds : 0,
      p50Ms: percentile(latencies, 0.5),
      p90Ms: percentile(latencies, 0.9),
      p99Ms: percentile(latencies, 0.99),
      ...(s?.limit === undefined ? {} : { limit: s.limit }),
    });
  }
  const fixed = rows.filter((r) => !r.adaptive);
  // A level that served nothing is nobody's best: a sweep where every call failed has none.
  let best: TuneLevel | undefined;
  for (const r of fixed)
    if (r.throughput > 0 && (best === undefined || r.throughput > best.throughput)) best = r;
  return { levels: rows, knee: kneeOf(fixed, kneeRatio), best: best?.concurrency, kneeRatio };
}

function describeError(error: unknown): string {
  const message = errorMessage(error);
  return isSluiceError(error) ? `${message} (${error.code})` : message;
}

/** Yields up to `count` items, and none once `durationMs` has passed since the first. */
function* take<T>(
  next: () => IteratorResult<T>,
  count: number,
  durationMs: number,
  clock: Clock,
): Generator<T> {
  const started = clock.now();
  for (let i = 0; i < count; i++) {
    if (clock.now() - started >= durationMs) return;
    const result = next();
    if (result.done) return;
    yield result.value;
  }
}

function checkTune<T>(target: TuneTarget<T>, options: TuneOptions<T>) {
  const fn = typeof target === 'function' ? target : target?.fn;
  if (typeof fn !== 'function') throw invalidType('target', 'a function or { fn, options }', target);
  const stage = typeof target === 'function' ? {} : (target.options ?? {});
  checkOptions('tune options', options, tuneKeys);
  if (options === undefined) throw invalidType('tune options', 'an object with "items"', options);
  const o = options;
  const levels = o.levels ?? DEFAULT_LEVELS;
  if (!Array.isArray(levels) || levels.length === 0) throw invalidType('levels', 'a non-empty array', levels);
  for (const level of levels) {
    if (level !== 'adaptive') checkInteger('levels[]', level, { min: 1 });
  }
  if (o.itemsPerLevel !== undefined) checkInteger('itemsPerLevel', o.itemsPerLevel, { min: 1 });
  if (o.durationMs !== undefined) checkNumber('durationMs', o.durationMs, { exclusive: true });
  if (o.warmup !== undefined) checkBoolean('warmup', o.warmup);
  if (o.kneeRatio !== undefined) {
    checkNumber('kneeRatio', o.kneeRatio, { exclusive: true });
    if (o.kneeRatio > 1)
      throw new InvalidArgValueError(`The "kneeRatio" option must be <= 1. Received ${o.kneeRatio}`);
  }
  return { fn, stage, o, levels, next: itemSource(o.items) };
}

/** One reader of the items for the whole sweep; an array restarts at every level's first read. */
function itemSource<T>(items: TuneOptions<T>['items']): () => IteratorResult<T> {
  if (typeof items === 'function') {
    checkFunction('items', items);
    let i = 0;
    return () => ({ done: false, value: items(i++) });
  }
  if (Array.isArray(items)) {
    if (items.length === 0) throw invalidType('items', 'a non-empty array', items);
    let i = 0;
    return () => ({ done: false, value: items[i++ % items.length] as T });
  }
  if (items === null || typeof items !== 'object' || !(Symbol.iterator in items)) {
    throw invalidType('items', 'an Iterable or a function (i) => item', items);
  }
  const iterator = items[Symbol.iterator]();
  return () => iterator.next();
}
