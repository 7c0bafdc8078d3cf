/**
 * The options of `concurrency: 'adaptive'` and their checks at the door.
 */
import { InvalidArgValueError } from '../core/errors.js';
import { checkFunction, checkInteger, checkNumber, checkOptions, invalidType } from '../core/validate.js';
import type { Objective } from './gradient-limit.js';
import { isOverload } from './overload.js';

/**
 * An adaptive concurrency limit: the stage finds how many calls at once the service it talks to
 * can take, and follows it as that changes.
 * @example
 * flow(urls).map(fetchPage, { concurrency: { adaptive: true, max: 256, key: (url) => new URL(url).host } })
 */
export interface AdaptiveConcurrency<T = unknown> {
  readonly adaptive: true;
  /**
   * What the limit is for. `'latency'` is for a backend shared with others, and protects a
   * server whose calls cost CPU: the limit grows only while latency stays within `tolerance` of
   * the lowest seen, unless throughput still clearly grows with it. `'throughput'` is for a batch
   * job against a slow service that holds many calls at once: the limit grows while more calls
   * in flight still buy more calls a second, however long each waits, and steps back when they
   * buy fewer. Both back off on overload errors.
   * @default 'latency'
   * @example concurrency: adaptive({ objective: 'latency', tolerance: 2 })
   */
  readonly objective?: Objective;
  /**
   * The lowest the limit goes, however bad things get.
   * @default 1
   */
  readonly min?: number;
  /**
   * The highest the limit goes. The stage runs this many lanes, so it also bounds the items the
   * stage holds. Whatever is set, the limits of a process together stay below its open-file limit.
   * @default 10000
   */
  readonly max?: number;
  /**
   * Where the limit starts. `'throughput'` starts at 100, the fewest concurrent streams HTTP/2
   * asks a server to allow one connection (RFC 9113): a batch job's first round trips at 16
   * cost a slow service's job a third of its time; until the first call answers, it doubles
   * every 50 ms, up to sixteen times this, so a slow service's first round trip is not run at
   * it. `'latency'` starts at 16, cautious with a backend shared with others.
   * @default Math.min(objective === 'throughput' ? 100 : 16, max)
   */
  readonly initial?: number;
  /**
   * Gives each key (say, each host) a limit of its own, learned separately.
   * @example key: (url) => new URL(url).host
   */
  readonly key?: (item: T) => unknown;
  /**
   * With `objective: 'latency'`: how far the mean latency of a window may rise above the lowest
   * seen before the limit shrinks: 1.5 accepts 50% more latency as the price of more throughput.
   * @default 1.5
   */
  readonly tolerance?: number;
  /**
   * What a drop multiplies the limit by.
   * @default 0.9
   */
  readonly backoff?: number;
  /**
   * Decides whether a failed attempt means the service is overloaded (the limit backs off) or
   * the item is at fault (the attempt is ignored).
   * @default timeouts, HTTP 408, 429 and 5xx, connection errors, a Retry-After, and any error
   * without an HTTP status; other 4xx statuses are the item's fault
   * @example isOverload: (error) => error instanceof QuotaError
   */
  readonly isOverload?: (error: unknown) => boolean;
}

/** The options of `adaptive()`: those of `{ adaptive: true, ... }` without the marker. */
export type AdaptiveOptions<T = unknown> = Omit<AdaptiveConcurrency<T>, 'adaptive'>;

/**
 * Builds an adaptive concurrency setting, for when `'adaptive'` needs options.
 * @example flow(urls).map(fetchPage, { concurrency: adaptive({ max: 200, key: hostOf }) })
 */
export function adaptive<T = unknown>(options: AdaptiveOptions<T> = {}): AdaptiveConcurrency<T> {
  return { ...options, adaptive: true };
}

export interface NormalizedAdaptive {
  readonly objective: Objective;
  readonly min: number;
  readonly max: number;
  readonly initial: number;
  readonly tolerance: number;
  readonly backoff: number;
  readonly key: ((item: unknown) => unknown) | undefined;
  readonly isOverload: (error: unknown) => boolean;
}

const adaptiveKeys = [
  'adaptive',
  'objective',
  'min',
  'max',
  'initial',
  'key',
  'tolerance',
  'backoff',
  'isOverload',
] as const;

/** The default `max`: a service answering in 200 ms that takes 3,200 at once is common enough. */
const DEFAULT_MAX = 10_000;

/**
 * Where each objective's limit starts. A limit grows as answers come back, so its first round
 * trip runs near the initial limit whatever the service can take ('throughput' lets it double
 * every 50 ms until the first answer, up to sixteen times it): against a 200 ms service that
 * holds thousands, a 20,000-call job started at 16 spent a third of its time climbing (the
 * machine's figures in bench/RESULTS.md). A batch job ('throughput') starts at the fewest
 * concurrent streams HTTP/2 asks a server to allow a single connection (RFC 9113, 6.5.2: no
 * fewer than 100); a service that takes fewer refuses the excess once and the first cut answers
 * it. A backend shared with others ('latency') starts cautiously.
 */
const THROUGHPUT_INITIAL = 100;
const LATENCY_INITIAL = 16;

/** The largest `max` accepted: the stage runs one lane per unit of it. */
const MAX_LANES = 100_000;

/** Validates `'adaptive'` or `{ adaptive: true, ... }` and fills in the defaults. */
export function normalizeAdaptive(name: string, value: 'adaptive' | AdaptiveConcurrency): NormalizedAdaptive {
  const o: Partial<AdaptiveConcurrency> = value === 'adaptive' ? {} : value;
  checkOptions(name, o, adaptiveKeys);
  if (value !== 'adaptive' && o.adaptive !== true) {
    throw invalidType(`${name}.adaptive`, 'true', o.adaptive);
  }
  const min = checkInteger(`${name}.min`, o.min ?? 1, { min: 1 });
  const max = checkInteger(`${name}.max`, o.max ?? Math.max(min, DEFAULT_MAX), { min });
  if (max > MAX_LANES) {
    throw new InvalidArgValueError(
      `The "${name}.max" option must be an integer <= ${MAX_LANES}. Received ${max}`,
    );
  }
  const objective = o.objective ?? 'latency';
  if (objective !== 'throughput' && objective !== 'latency') {
    throw new InvalidArgValueError(
      `The "${name}.objective" option must be 'throughput' or 'latency'. Received ${String(objective)}`,
    );
  }
  const start = objective === 'throughput' ? THROUGHPUT_INITIAL : LATENCY_INITIAL;
  const initial = checkInteger(`${name}.initial`, o.initial ?? Math.min(max, Math.max(min, start)), { min });
  if (initial > max) {
    throw new InvalidArgValueError(
      `The "${name}.initial" option must be between min (${min}) and max (${max}). Received ${initial}`,
    );
  }
  const backoff = checkNumber(`${name}.backoff`, o.backoff ?? 0.9, { exclusive: true });
  if (backoff >= 1) {
    throw new InvalidArgValueError(
      `The "${name}.backoff" option must be a number > 0 and < 1. Received ${backoff}`,
    );
  }
  return {
    objective,
    min,
    max,
    initial,
    tolerance: checkNumber(`${name}.tolerance`, o.tolerance ?? 1.5, { min: 1, exclusive: true }),
    backoff,
    key: o.key === undefined ? undefined : checkFunction(`${name}.key`, o.key),
    isOverload: o.isOverload === undefined ? isOverload : checkFunction(`${name}.isOverload`, o.isOverload),
  };
}
