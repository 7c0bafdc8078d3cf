/**
 * A stage as the user described it, validated at the door: every option is checked when the flow
 * is built, so a typo fails at `.map(...)`, not halfway through a run.
 */
import { availableParallelism } from 'node:os';
import { RateLimiter } from '../core/rate-limiter.js';
import { type NormalizedRetry, normalizeRetry } from '../core/retry.js';
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkNumber,
  checkOptions,
  invalidType,
} from '../core/validate.js';
import type { CpuTask } from '../exec/cpu.js';
import type { TaskModule } from '../exec/pool/task-module.js';
import type { AdaptiveConcurrency } from '../limit/adaptive-options.js';
import { type NormalizedAdaptive, normalizeAdaptive } from '../limit/adaptive-options.js';
import { processBudget } from '../limit/open-files.js';
import type { LaneKind, StageKind } from '../observe/run-report.js';
import type {
  BatchOptions,
  CpuStageOptions,
  DeadLetterHandler,
  StageOptions,
  StageRateLimit,
} from './types.js';

export type { LaneKind, StageKind } from '../observe/run-report.js';

export interface LaneSpec {
  readonly kind: LaneKind;
  readonly name: string;
  readonly fn: (item: unknown, ctx: import('./types.js').StageContext) => unknown;
  /** Lanes: the fixed concurrency, or for an adaptive stage the most its limit may reach. */
  readonly concurrency: number;
  readonly adaptive: NormalizedAdaptive | undefined;
  readonly ordered: boolean;
  readonly buffer: number;
  readonly retry: NormalizedRetry | undefined;
  readonly timeout: number | undefined;
  readonly rateLimit: StageRateLimit<unknown> | RateLimiter | undefined;
  readonly onError: 'fail' | 'skip' | DeadLetterHandler<unknown>;
}

export interface BatchSpec {
  readonly kind: 'batch';
  readonly name: string;
  readonly size: number;
  readonly maxWaitMs: number | undefined;
  readonly buffer: number;
}

export interface CpuSpec {
  readonly kind: 'cpu';
  readonly name: string;
  readonly task: CpuTask<unknown, unknown>;
  readonly module: TaskModule;
  /** Workers, for the report; the pool decides. */
  readonly concurrency: number;
  readonly ordered: boolean;
  readonly buffer: number;
  readonly retry: NormalizedRetry | undefined;
  readonly timeout: number | undefined;
  readonly onError: 'fail' | 'skip' | DeadLetterHandler<unknown>;
}

export type StageSpec = LaneSpec | BatchSpec | CpuSpec;

const stageKeys = [
  'name',
  'concurrency',
  'ordered',
  'buffer',
  'retry',
  'timeout',
  'rateLimit',
  'onError',
] as const;
/**
 * The most a buffer sized from a stage's concurrency holds by default. A buffer is allocated when
 * the run starts, while lanes start only as there is work: `concurrency: 1e9` must not allocate
 * a billion slots. Past a few thousand a larger buffer buys nothing, since an ordered stage parks
 * results in its window and an unordered one's lanes wait for room.
 */
const MAX_DEFAULT_BUFFER = 4096;

/**
 * The default buffer of a stage, or of the source before it, that runs `lanes` lanes: four
 * results a lane. Lanes finish in rounds, and the reader woken by the first result of a round runs
 * only after the rest of it (and often the next); at one result a lane, every round filled the
 * buffer, and lanes then waited for room once per item, which cost a forEach or an async reader
 * of a no-op map two thirds of its throughput.
 */
export function defaultBuffer(lanes: number): number {
  return Math.max(16, Math.min(4 * lanes, MAX_DEFAULT_BUFFER));
}

/** A cpu() stage's default output buffer: see `CpuStageOptions.buffer`. */
const CPU_STAGE_BUFFER = 256;
/** A pool decides its own concurrency, and rate limits belong to IO: neither applies to a cpu() stage. */
const cpuStageKeys = ['name', 'ordered', 'buffer', 'retry', 'timeout', 'onError'] as const;
const rateLimitKeys = ['perSecond', 'limit', 'intervalMs', 'burst', 'key'] as const;
const batchKeys = ['size', 'maxWaitMs', 'name', 'buffer'] as const;

export function laneSpec(kind: LaneKind, position: number, fn: unknown, options: unknown): LaneSpec {
  checkFunction(`${kind}(fn)`, fn as Function);
  checkOptions(`${kind} options`, options, stageKeys);
  const o = (options ?? {}) as StageOptions<unknown>;
  const name = stageName(kind, position, o.name, (fn as Function).name);
  if (o.concurrency !== undefined && typeof o.concurrency !== 'number' && !isAdaptive(o.concurrency)) {
    throw invalidType(
      `${name}.concurrency`,
      `a number (an integer >= 1), 'adaptive' or { adaptive: true, ... }`,
      o.concurrency,
    );
  }
  const adaptive = isAdaptive(o.concurrency)
    ? normalizeAdaptive(`${name}.concurrency`, o.concurrency)
    : undefined;
  // An adaptive stage runs a lane per call its limit may allow; no more than descriptors allow.
  const concurrency =
    adaptive === undefined
      ? checkInteger(`${name}.concurrency`, o.concurrency ?? 1, { min: 1 })
      : Math.min(adaptive.max, processBudget().ceiling);
  const ordered = checkBoolean(`${name}.ordered`, o.ordered ?? true);
  return {
    kind,
    name,
    fn: fn as LaneSpec['fn'],
    concurrency,
    adaptive,
    // One lane cannot reorder anything; the unordered path is the cheaper one.
    ordered: ordered && concurrency > 1 && kind !== 'forEach',
    // An adaptive stage's lanes number its `max`, which may be far above what it settles at: its
    // buffer is sized from where the limit starts, or large items (pages of records) pile up.
    buffer: checkInteger(`${name}.buffer`, o.buffer ?? defaultBuffer(adaptive?.initial ?? concurrency), {
      min: 1,
    }),
    retry: o.retry === undefined ? undefined : normalizeRetry(`${name}.retry`, o.retry),
    timeout:
      o.timeout === undefined ? undefined : checkNumber(`${name}.timeout`, o.timeout, { exclusive: true }),
    rateLimit: o.rateLimit === undefined ? undefined : checkRateLimit(`${name}.rateLimit`, o.rateLimit),
    onError: checkErrorPolicy(`${name}.onError`, o.onError ?? 'fail'),
  };
}

export function cpuSpec(position: number, task: CpuTask<unknown, unknown>, options: unknown): CpuSpec {
  checkOptions('cpu stage options', options, cpuStageKeys);
  const o = (options ?? {}) as CpuStageOptions<unknown>;
  const name = stageName('cpu', position, o.name, task.name);
  const module = task.resolve(`Stage "${name}"`);
  const concurrency = task.workers ?? availableParallelism();
  return {
    kind: 'cpu',
    name,
    task,
    module,
    concurrency,
    ordered: checkBoolean(`${name}.ordered`, o.ordered ?? true),
    buffer: checkInteger(`${name}.buffer`, o.buffer ?? CPU_STAGE_BUFFER, { min: 1 }),
    retry: o.retry === undefined ? undefined : normalizeRetry(`${name}.retry`, o.retry),
    timeout:
      o.timeout === undefined ? undefined : checkNumber(`${name}.timeout`, o.timeout, { exclusive: true }),
    onError: checkErrorPolicy(`${name}.onError`, o.onError ?? 'fail'),
  };
}

export function batchSpec(position: number, options: unknown): BatchSpec {
  if (options === undefined) throw invalidType('batch options', 'an object with a "size"', options);
  checkOptions('batch options', options, batchKeys);
  const o = options as BatchOptions;
  const name = stageName('batch', position, o.name, '');
  return {
    kind: 'batch',
    name,
    size: checkInteger(`${name}.size`, o.size, { min: 1 }),
    maxWaitMs: o.maxWaitMs === undefined ? undefined : checkNumber(`${name}.maxWaitMs`, o.maxWaitMs),
    buffer: checkInteger(`${name}.buffer`, o.buffer ?? 16, { min: 1 }),
  };
}

function stageName(kind: StageKind, position: number, given: unknown, fnName: string): string {
  if (given !== undefined) {
    if (typeof given !== 'string' || given === '')
      throw invalidType(`${kind}.name`, 'a non-empty string', given);
    return given;
  }
  // Arrow functions assigned inline get an empty name; bound ones "bound x".
  return fnName && !fnName.startsWith('bound ') ? fnName : `${kind}#${position}`;
}

function checkRateLimit(name: string, value: unknown): StageRateLimit<unknown> | RateLimiter {
  if (value instanceof RateLimiter) return value;
  checkOptions(name, value, rateLimitKeys);
  const { key, ...bucket } = value as StageRateLimit<unknown>;
  if (key !== undefined) checkFunction(`${name}.key`, key);
  // Built once here so bad numbers fail at the door; each run builds its own on the run's clock.
  new RateLimiter(bucket);
  return value as StageRateLimit<unknown>;
}

/** `'adaptive'` or an object: anything else goes to the integer check, whose message covers the forms. */
function isAdaptive(value: unknown): value is 'adaptive' | AdaptiveConcurrency {
  return value === 'adaptive' || (typeof value === 'object' && value !== null);
}

function checkErrorPolicy(name: string, value: unknown): LaneSpec['onError'] {
  if (value === 'fail' || value === 'skip' || typeof value === 'function')
    return value as LaneSpec['onError'];
  throw invalidType(name, `'fail', 'skip' or a dead-letter function`, value);
}
