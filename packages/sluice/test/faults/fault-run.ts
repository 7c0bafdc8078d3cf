/**
 * Runs one fault case for real (real timers, streams, sockets and worker threads) and checks the
 * invariants every run must keep, whatever was thrown at it:
 *
 * - it settles, within a bound;
 * - it leaves nothing behind: no timer, immediate or socket more than before it started;
 * - every stage's counts add up, and each stage took in exactly what the one before put out;
 * - a completed run emitted what the model says, in order when every stage is ordered;
 * - a run that had to fail did, and a run that failed carries a coded error and its report.
 */
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { setImmediate as turn } from 'node:timers/promises';
import type { Clock } from '../../src/core/clock.js';
import {
  adaptive,
  cpu,
  type Flow,
  flow,
  isSluiceError,
  type RunReport,
  type Sink,
  type StageContext,
  type StageOptions,
  withRunSignal,
} from '../../src/index.js';
import { apply, expect, type FaultCase, hits, type Pace, type StageCase } from './fault-cases.js';
import { type FaultBench, sourceOf, TASK } from './fault-sources.js';

/** A case that has not settled by then has hung. */
const SETTLE_BOUND_MS = 10_000;
/** Resources a run may hold; each must be back to its count from before the run. */
const WATCHED = ['Timeout', 'Immediate', 'TCPSocketWrap', 'TCPWRAP'];

const quiet = { warn: () => undefined, info: () => undefined, debug: () => undefined };

export interface Outcome {
  readonly status: RunReport['status'] | 'broke';
  readonly code?: string;
}

/** A clock that moves `step` ms at every reading; its timers are real ones. */
function steppingClock(step: number): Clock {
  let now = 0;
  return {
    now: () => (now += step),
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}

function pace(kind: Pace): Promise<void> | undefined {
  if (kind === 'microtask') return Promise.resolve();
  if (kind === 'immediate') return turn();
  return undefined;
}

function later<T>(kind: Pace, value: () => T): T | Promise<T> {
  const wait = pace(kind);
  return wait === undefined ? value() : wait.then(value);
}

/** The stage's function: the model's transformation, or the fault when the item is hit. */
function stageFn(stage: StageCase): (x: number, ctx: StageContext) => unknown {
  const result = (x: number): unknown => {
    const out = apply(stage.kind, x);
    switch (stage.kind) {
      case 'filter':
        return out.length > 0;
      case 'flatMap':
        return stage.asyncIterable
          ? (async function* () {
              for (const v of out) {
                await pace(stage.pace);
                yield v;
              }
            })()
          : out;
      case 'tap':
      case 'forEach':
        return undefined;
      default:
        return out[0];
    }
  };
  return (x, ctx) => {
    if (hits(stage, x)) {
      switch (stage.fault.kind) {
        case 'throw':
          throw new Error(`fault: ${x} throws`);
        case 'reject':
          return later(stage.pace, () => {
            throw new Error(`fault: ${x} rejects`);
          });
        case 'flaky':
          if (ctx.attempt === 1) throw new Error(`fault: ${x} fails its first attempt`);
          break;
        case 'hang':
          // Ignores its signal: only a deadline or the run's end gets past it.
          return new Promise<never>(() => undefined);
        case 'wait-signal':
          return new Promise<never>((_, reject) => {
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
          });
        case 'none':
          break;
      }
    }
    return later(stage.pace, () => result(x));
  };
}

function laneOptions(stage: StageCase, i: number): StageOptions<number> {
  return {
    name: `s${i}-${stage.kind}`,
    concurrency: stage.adaptive ? adaptive({ max: 8 }) : stage.concurrency,
    ...(stage.perSecond === undefined ? {} : { rateLimit: { perSecond: stage.perSecond } }),
    ordered: stage.ordered,
    buffer: stage.buffer,
    ...(stage.attempts > 1 ? { retry: { attempts: stage.attempts, baseDelayMs: 1 } } : {}),
    ...(stage.timeout === undefined ? {} : { timeout: stage.timeout }),
    onError:
      stage.policy === 'fail' || stage.policy === 'skip'
        ? stage.policy
        : stage.policy === 'dead-letter'
          ? () => undefined
          : () => {
              throw new Error('the dead-letter handler fails too');
            },
  };
}

/** Builds the flow: each stage kind with its options; a batch is unbatched at once so values stay numbers. */
function build(
  c: FaultCase,
  source: Iterable<number> | AsyncIterable<number>,
  bench: FaultBench,
): { sink: Sink } | { flow: Flow<number> } {
  let f: Flow<number> = flow(source);
  const stages = c.stages;
  for (const [i, stage] of stages.entries()) {
    const options = laneOptions(stage, i);
    switch (stage.kind) {
      case 'map':
        f = f.map(stageFn(stage) as (x: number, ctx: StageContext) => number, options);
        break;
      case 'filter':
        f = f.filter(stageFn(stage), options);
        break;
      case 'flatMap':
        f = f.flatMap(stageFn(stage) as (x: number) => Iterable<number>, options);
        break;
      case 'tap':
        f = f.tap(stageFn(stage), options);
        break;
      case 'batch':
        f = f
          .batch({
            size: stage.size,
            name: `s${i}-batch`,
            ...(stage.maxWaitMs === undefined ? {} : { maxWaitMs: stage.maxWaitMs }),
          })
          .flatMap((batch) => batch.values(), { name: `s${i}-unbatch` });
        break;
      case 'cpu': {
        const task = cpu<number, number>(
          TASK,
          stage.ownPool ? { workers: 1, maxCrashRetries: 0 } : { pool: bench.pool },
        );
        const { concurrency: _c, retry: _r, rateLimit: _l, ...cpuOptions } = options;
        f = f.map(task, { ...cpuOptions, ...(stage.attempts > 1 ? { retry: stage.attempts } : {}) });
        break;
      }
      case 'forEach':
        return { sink: f.forEach(stageFn(stage), options) };
    }
  }
  return { flow: f };
}

function activeCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** Waits (briefly) for every watched resource to be back to its count before the run, and fails if one is not. */
async function assertNothingLeft(before: Map<string, number>): Promise<void> {
  let left: string[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    const now = activeCounts();
    left = WATCHED.filter((kind) => (now.get(kind) ?? 0) > (before.get(kind) ?? 0)).map(
      (kind) => `${kind} x${(now.get(kind) ?? 0) - (before.get(kind) ?? 0)}`,
    );
    if (left.length === 0) return;
    // Sockets close and a worker's last message lands a few turns after the run settled.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`the run left resources behind: ${left.join(', ')}`);
}

function checkCounts(report: RunReport): void {
  for (const s of report.stages) {
    const ended = s.emitted + s.filtered + s.skipped + s.deadLettered + s.failed + s.cancelled;
    assert.equal(ended, s.entered, `stage ${s.name}: ${JSON.stringify(s)} does not add up`);
    for (const n of [s.entered, s.emitted, s.filtered, s.skipped, s.deadLettered, s.failed, s.cancelled])
      assert.ok(n >= 0, `stage ${s.name} has a negative count`);
  }
  assert.equal(
    report.stages[0]?.entered,
    report.source.items,
    'the first stage took in what the source gave',
  );
  for (let i = 1; i < report.stages.length; i++) {
    const before = report.stages[i - 1];
    const stage = report.stages[i];
    assert.equal(
      stage?.entered,
      before?.outputs,
      `stage ${stage?.name} took in what ${before?.name} put out`,
    );
  }
  if (report.status === 'completed') {
    for (const s of report.stages)
      assert.equal(s.cancelled, 0, `stage ${s.name} cancelled items in a completed run`);
    assert.equal(report.undelivered, 0);
  }
}

/**
 * What the last stage put out reached the reader, or is counted undelivered; a stream may also
 * hold up to its buffer (16) of outputs handed to it and never read.
 */
function checkDelivered(report: RunReport, received: number, stream: boolean): void {
  const last = report.stages.at(-1);
  const put = last === undefined ? report.source.items : last.outputs;
  const handed = put - report.undelivered;
  const at = `${put} put out, ${report.undelivered} undelivered, ${received} read (${report.status})`;
  if (stream) assert.ok(handed >= received && handed <= received + 16, at);
  else assert.equal(handed, received, at);
}

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** True when `part` is `whole` with some values left out (a multiset inclusion). */
function isSubMultiset(part: readonly number[], whole: readonly number[]): boolean {
  const left = new Map<number, number>();
  for (const v of whole) left.set(v, (left.get(v) ?? 0) + 1);
  for (const v of part) {
    const n = left.get(v) ?? 0;
    if (n === 0) return false;
    left.set(v, n - 1);
  }
  return true;
}

/** Runs the case and checks every invariant; resolves with how the run ended. */
export async function runCase(c: FaultCase, bench: FaultBench): Promise<Outcome> {
  const model = expect(c);
  const before = activeCounts();
  const controller = new AbortController();
  const timer =
    c.abortAfterMs === undefined
      ? undefined
      : setTimeout(() => controller.abort(new Error('fault: aborted')), c.abortAfterMs);
  const outputs: number[] = [];
  /** What a reader (iterate, stream) was handed, the output it broke off at included. */
  let received = 0;
  // A reader gets no report: the run publishes it on its end.
  const published: RunReport[] = [];
  const onEnd = (message: unknown): void => void published.push((message as { report: RunReport }).report);
  diagnosticsChannel.subscribe('sluice:run:end', onEnd);
  let report: RunReport | undefined;
  let error: unknown;
  const consume = async (): Promise<RunReport | undefined> => {
    const source = await sourceOf(c, bench);
    const built = build(c, source, bench);
    const clock = c.clockStep === undefined ? undefined : steppingClock(c.clockStep);
    const options = { signal: controller.signal, logger: quiet, ...(clock === undefined ? {} : { clock }) };
    if ('sink' in built) return built.sink.run(options);
    const f = built.flow;
    switch (c.terminal) {
      case 'run':
        return f.run(options);
      case 'collect':
        outputs.push(...(await f.collect(options)));
        return undefined;
      case 'reduce':
        await f.reduce(
          (all, x) => {
            all.push(x);
            return all;
          },
          outputs,
          options,
        );
        return undefined;
      case 'iterate':
        // for await takes no options: the signal reaches its run through withRunSignal.
        await withRunSignal(controller.signal, async () => {
          for await (const x of f) {
            received++;
            if (c.slowConsumer) await turn();
            if (outputs.length === c.breakAfter) break;
            outputs.push(x);
          }
        });
        return undefined;
      case 'stream':
        // toReadable(), read by Node's own async iterator; leaving the loop destroys the stream.
        await withRunSignal(controller.signal, async () => {
          for await (const x of f.toReadable(clock === undefined ? {} : { clock })) {
            received++;
            if (c.slowConsumer) await turn();
            if (outputs.length === c.breakAfter) break;
            outputs.push(x as number);
          }
        });
        return undefined;
    }
  };
  let bound: NodeJS.Timeout | undefined;
  const settled = consume().then(
    (r) => {
      report = r;
    },
    (e: unknown) => {
      error = e;
    },
  );
  const hung = new Promise<'hung'>((resolve) => {
    bound = setTimeout(() => resolve('hung'), SETTLE_BOUND_MS);
  });
  const ended = await Promise.race([settled.then(() => 'settled' as const), hung]);
  clearTimeout(bound);
  clearTimeout(timer);
  diagnosticsChannel.unsubscribe('sluice:run:end', onEnd);
  assert.equal(ended, 'settled', `the run did not settle within ${SETTLE_BOUND_MS} ms`);

  if (error !== undefined) {
    assert.ok(isSluiceError(error), `the run rejected with an uncoded ${String(error)}`);
    assert.ok(
      model.codes.has(error.code),
      `the run failed with ${error.code} (${(error as Error).message}); the case allows ${[...model.codes].join(', ') || 'none'}`,
    );
    report = (error as { report?: RunReport }).report;
    assert.ok(report !== undefined, 'a failed run carries its report');
    assert.notEqual(report.status, 'completed');
    assert.equal(report.error?.code, error.code);
  }
  const broke =
    (c.terminal === 'iterate' || c.terminal === 'stream') &&
    c.breakAfter !== undefined &&
    outputs.length === c.breakAfter;
  const reader = c.terminal === 'iterate' || c.terminal === 'stream';
  if (reader && report === undefined) {
    report = published.at(-1);
    assert.ok(report !== undefined, 'a read run published its report as it ended');
  }
  if (reader && report !== undefined) checkDelivered(report, received, c.terminal === 'stream');
  if (report !== undefined) {
    checkCounts(report);
    if (report.status === 'completed') {
      assert.ok(!model.mustFail || model.timing, 'a run with an item that must fail it completed');
      assert.ok(!model.endless, 'a run that cannot end on its own completed');
    }
  }
  const completed = error === undefined && !broke;
  if (completed && !model.endless)
    assert.ok(!model.mustFail || model.timing, 'the run completed though it had to fail');
  if (c.terminal !== 'run' && c.stages.at(-1)?.kind !== 'forEach') {
    if (completed && !model.timing) {
      if (model.ordered)
        assert.deepEqual(outputs, model.outputs, 'a completed ordered run emits the model, in order');
      else assert.deepEqual(sorted(outputs), sorted(model.outputs), 'a completed run emits the model');
    } else if (model.ordered && !model.timing) {
      assert.deepEqual(outputs, model.outputs.slice(0, outputs.length), 'what came out is in order');
    } else if (!model.timing) {
      assert.ok(isSubMultiset(outputs, model.outputs), 'what came out is part of what the model emits');
    }
  }
  await assertNothingLeft(before);
  if (broke) return { status: 'broke' };
  if (error !== undefined)
    return { status: report?.status ?? 'failed', code: (error as { code: string }).code };
  return { status: 'completed' };
}
