/**
 * The fault suite's cases: a random flow (its source, its stages and their options, its terminal)
 * under random faults (throws, rejections, hangs, flaky calls, poison items that kill a worker,
 * a source that fails, an abort at a random moment, a consumer that is slow or leaves early, a
 * run clock that jumps at every reading), and the model that says what a correct run of it must do.
 */
import fc from 'fast-check';

export type SourceKind = 'array' | 'generator' | 'async-generator' | 'readable' | 'web-stream' | 'socket';
export type StageKind = 'map' | 'filter' | 'flatMap' | 'tap' | 'batch' | 'cpu' | 'forEach';
export type FaultKind = 'none' | 'throw' | 'reject' | 'flaky' | 'hang' | 'wait-signal';
export type Pace = 'sync' | 'microtask' | 'immediate';
export type Policy = 'fail' | 'skip' | 'dead-letter' | 'dead-letter-throws';
export type Terminal = 'run' | 'collect' | 'reduce' | 'iterate' | 'stream';

export interface StageCase {
  readonly kind: StageKind;
  readonly concurrency: number;
  /** Lane stages: `concurrency: 'adaptive'` instead of the number. */
  readonly adaptive: boolean;
  /** Lane stages: a token bucket of this many calls a second (high enough not to slow the case much). */
  readonly perSecond: number | undefined;
  readonly ordered: boolean;
  readonly buffer: number;
  readonly pace: Pace;
  /** flatMap only: hand back an async generator instead of an array. */
  readonly asyncIterable: boolean;
  readonly attempts: number;
  readonly timeout: number | undefined;
  readonly policy: Policy;
  /** The items the fault hits: those whose value is `residue` modulo `modulus`. */
  readonly fault: { readonly kind: FaultKind; readonly modulus: number; readonly residue: number };
  /** batch only. */
  readonly size: number;
  readonly maxWaitMs: number | undefined;
  /** cpu only: a pool of the run's own (started and closed by the run) rather than the shared one. */
  readonly ownPool: boolean;
}

export interface FaultCase {
  readonly source: SourceKind;
  readonly values: readonly number[];
  /** The source fails after handing out this many items (async sources only). */
  readonly sourceFailsAt: number | undefined;
  /** The source stays open after its values, handing out nothing more (async sources only). */
  readonly idle: boolean;
  readonly stages: readonly StageCase[];
  readonly terminal: Terminal;
  /** The consumer waits a turn of the event loop per item. */
  readonly slowConsumer: boolean;
  /** `iterate` and `stream` only: leave the loop after this many items. */
  readonly breakAfter: number | undefined;
  readonly abortAfterMs: number | undefined;
  /**
   * The run's clock moves this many milliseconds at every reading and not otherwise (a fake clock
   * that advances as it is read, or a coarse one); undefined for the system clock. Not for
   * `iterate`, whose `for await` takes no run options.
   */
  readonly clockStep: number | undefined;
}

/** The CPU step's own rule (test/fixtures/tasks/fault.task.ts): 997 mod 1009 kills the worker, multiples of 89 throw. */
export const cpuFails = (x: number): boolean => x % 1009 === 997 || x % 89 === 0;

/** What each kind of stage does to a value that is not hit by a fault. */
export function apply(kind: StageKind, x: number): number[] {
  switch (kind) {
    case 'map':
    case 'cpu':
      return [x + 1];
    case 'filter':
      return x % 3 === 0 ? [] : [x];
    case 'flatMap':
      return x % 5 === 0 ? [] : [x, x + 1];
    case 'tap':
    case 'batch':
      return [x];
    case 'forEach':
      return [];
  }
}

export function hits(stage: StageCase, x: number): boolean {
  if (stage.kind === 'cpu') return cpuFails(x);
  if (stage.kind === 'batch') return false;
  return stage.fault.kind !== 'none' && x % stage.fault.modulus === stage.fault.residue;
}

/** A hit that ends the item's attempts in failure (a flaky call fails only its first attempt). */
function failsForGood(stage: StageCase): boolean {
  return stage.kind === 'cpu' || stage.fault.kind !== 'flaky' || stage.attempts < 2;
}

const isAsyncSource = (kind: SourceKind): boolean => kind !== 'array' && kind !== 'generator';
/** Sources the case can make fail part-way (a socket's server just sends fewer lines). */
const canFail = (kind: SourceKind): boolean => isAsyncSource(kind) && kind !== 'socket';

export interface Expectation {
  /** The outputs of a run that completes, in order when every stage is ordered. */
  readonly outputs: number[];
  /** True when some item must stop the run (a failure under 'fail', a dead-letter handler that throws). */
  readonly mustFail: boolean;
  /** The run cannot end on its own: it waits on a hang without a deadline, or on an idle source. */
  readonly endless: boolean;
  /** Codes a rejected run may carry. */
  readonly codes: ReadonlySet<string>;
  readonly ordered: boolean;
  /** A deadline can fire on a call that was merely slow: outcomes are then checked loosely. */
  readonly timing: boolean;
}

/** Runs the case through the model: what a correct run must do. */
export function expect(c: FaultCase): Expectation {
  let values = c.sourceFailsAt === undefined ? [...c.values] : c.values.slice(0, c.sourceFailsAt);
  let mustFail = c.sourceFailsAt !== undefined;
  let endless = c.idle && c.sourceFailsAt === undefined;
  const codes = new Set<string>();
  if (c.sourceFailsAt !== undefined) codes.add('SLUICE_ERR_SOURCE');
  if (c.abortAfterMs !== undefined) codes.add('SLUICE_ERR_ABORTED');
  for (const stage of c.stages) {
    const next: number[] = [];
    for (const x of values) {
      if (!hits(stage, x)) {
        next.push(...apply(stage.kind, x));
        continue;
      }
      if (!failsForGood(stage)) {
        next.push(...apply(stage.kind, x));
        continue;
      }
      // A cpu() stage's items fail by its task's own rule (cpuFails), whatever its fault kind: none hangs.
      const hangs =
        stage.kind !== 'cpu' && (stage.fault.kind === 'hang' || stage.fault.kind === 'wait-signal');
      if (hangs && stage.timeout === undefined) {
        endless = true;
        continue;
      }
      if (stage.policy === 'fail') {
        mustFail = true;
        codes.add('SLUICE_ERR_STAGE');
      } else if (stage.policy === 'dead-letter-throws') {
        mustFail = true;
        codes.add('SLUICE_ERR_DEAD_LETTER');
      }
    }
    values = next;
  }
  const timing = c.stages.some((s) => s.timeout !== undefined);
  if (timing) codes.add('SLUICE_ERR_STAGE').add('SLUICE_ERR_DEAD_LETTER');
  return {
    outputs: values,
    mustFail,
    endless,
    codes,
    ordered: c.stages.every((s) => s.ordered),
    timing,
  };
}

const stageArb = (last: boolean): fc.Arbitrary<StageCase> =>
  fc
    .record({
      kind: fc.constantFrom<StageKind>(
        'map',
        'map',
        'filter',
        'flatMap',
        'tap',
        'batch',
        'cpu',
        ...(last ? (['forEach', 'forEach'] as const) : []),
      ),
      concurrency: fc.integer({ min: 1, max: 6 }),
      adaptive: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
      perSecond: fc.option(fc.constantFrom(500, 2000, 10_000), { nil: undefined, freq: 6 }),
      ordered: fc.boolean(),
      buffer: fc.integer({ min: 1, max: 8 }),
      pace: fc.constantFrom<Pace>('sync', 'microtask', 'immediate'),
      asyncIterable: fc.boolean(),
      attempts: fc.integer({ min: 1, max: 3 }),
      timeout: fc.option(fc.integer({ min: 20, max: 60 }), { nil: undefined }),
      policy: fc.constantFrom<Policy>('fail', 'skip', 'dead-letter', 'dead-letter-throws'),
      fault: fc.record({
        kind: fc.constantFrom<FaultKind>('none', 'none', 'throw', 'reject', 'flaky', 'hang', 'wait-signal'),
        modulus: fc.integer({ min: 3, max: 11 }),
        residue: fc.integer({ min: 0, max: 10 }),
      }),
      size: fc.integer({ min: 1, max: 5 }),
      maxWaitMs: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
      ownPool: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
    })
    // cpu() stages are a small share: each is a message round trip to a worker, a poison item a restart.
    .map((s) => (s.kind === 'cpu' && s.buffer > 2 ? { ...s, kind: 'map' as const } : s));

export const faultCaseArb: fc.Arbitrary<FaultCase> = fc
  .record({
    source: fc.constantFrom<SourceKind>(
      'array',
      'generator',
      'async-generator',
      'readable',
      'web-stream',
      'socket',
    ),
    values: fc.array(fc.integer({ min: 0, max: 1200 }), { maxLength: 40 }),
    sourceFailsAt: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined, freq: 5 }),
    idle: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
    stages: fc
      .integer({ min: 1, max: 4 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => stageArb(i === n - 1)))),
    terminal: fc.constantFrom<Terminal>('run', 'collect', 'reduce', 'iterate', 'stream'),
    slowConsumer: fc.boolean(),
    breakAfter: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined, freq: 3 }),
    abortAfterMs: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined, freq: 3 }),
    clockStep: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 3 },
      { arbitrary: fc.integer({ min: 1, max: 30 }), weight: 1 },
    ),
  })
  .map((c): FaultCase => {
    const asyncSource = isAsyncSource(c.source);
    const base: FaultCase = {
      ...c,
      // A source fails after handing out at most all its values.
      sourceFailsAt:
        canFail(c.source) && c.sourceFailsAt !== undefined && c.sourceFailsAt <= c.values.length
          ? c.sourceFailsAt
          : undefined,
      idle: asyncSource && c.idle,
      breakAfter: c.terminal === 'iterate' || c.terminal === 'stream' ? c.breakAfter : undefined,
      clockStep: c.terminal === 'iterate' ? undefined : c.clockStep,
    };
    // A run that cannot end on its own is stopped by an abort: every case must settle.
    return expect(base).endless && base.abortAfterMs === undefined ? { ...base, abortAfterMs: 10 } : base;
  });
