import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpu, flow, formatReport, type Logger, type RunReport } from '../../src/index.js';

const spinTask = new URL('../fixtures/tasks/spin.task.js', import.meta.url);

/** Keeps the event loop busy for `ms`: synchronous computing, as a parser or a hash would. */
function spin(ms: number): number {
  const until = performance.now() + ms;
  let n = 0;
  while (performance.now() < until) n++;
  return n;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** A logger that keeps what it is told, for tests that read the warnings. */
function recordingLogger(): Logger & { warnings: { fields: object; message: string }[] } {
  const warnings: { fields: object; message: string }[] = [];
  return {
    warnings,
    warn: (fields, message) => warnings.push({ fields, message }),
    info: () => undefined,
    debug: () => undefined,
  };
}

function stage(report: RunReport, name: string): RunReport['stages'][number] {
  const found = report.stages.find((s) => s.name === name);
  assert.ok(found, `no stage "${name}" in ${JSON.stringify(report.stages.map((s) => s.name))}`);
  return found;
}

describe('classification', () => {
  test('a stage that only waits is io-bound', async () => {
    const report = await flow(range(120))
      .map(
        async function wait(x) {
          await sleep(10);
          return x;
        },
        { concurrency: 12 },
      )
      .run();
    const c = stage(report, 'wait').classification;
    assert.equal(c?.label, 'io-bound', JSON.stringify(c));
    assert.ok((c?.wallMsPerItem ?? 0) >= 9, `a 10 ms wait measured as ${c?.wallMsPerItem} ms`);
  });

  test('synchronous computing inside a map stage is cpu-bound, and warns once that cpu() would move it', async () => {
    const logger = recordingLogger();
    const report = await flow(range(60))
      .map(function parse(x) {
        spin(4);
        return x;
      })
      .run({ logger });
    const c = stage(report, 'parse').classification;
    assert.equal(c?.label, 'cpu-bound', JSON.stringify(c));
    assert.ok((c?.cpuMsPerItem ?? 0) >= 3.5, `4 ms of spinning measured as ${c?.cpuMsPerItem} ms of CPU`);
    assert.equal(logger.warnings.length, 1);
    assert.match(logger.warnings[0]?.message ?? '', /Stage "parse" blocks the event loop .* cpu\(\)/);
    assert.deepEqual(
      report.warnings.map((w) => [w.code, w.stage]),
      [['SLUICE_W_LOOP_BLOCKED', 'parse']],
    );
    assert.equal(report.bottleneck?.stage, 'parse');
    assert.ok(report.eventLoop.utilization > 0.8, `event loop busy ${report.eventLoop.utilization}`);
  });

  test('a stage that waits and then computes is mixed', async () => {
    const report = await flow(range(50))
      .map(async function fetchAndParse(x) {
        await sleep(4);
        spin(4);
        return x;
      })
      .run({ logger: recordingLogger() });
    const c = stage(report, 'fetchAndParse').classification;
    assert.equal(c?.label, 'mixed', JSON.stringify(c));
  });

  test('a cpu() stage is cpu-bound, with its workers’ time per item', async () => {
    const report = await flow(range(80).map(() => 3))
      .map(cpu<number, number>(spinTask, { workers: 2 }))
      .run();
    const c = stage(report, 'spin').classification;
    assert.equal(c?.label, 'cpu-bound');
    assert.ok(
      (c?.cpuMsPerItem ?? 0) >= 2.5 && (c?.cpuMsPerItem ?? 0) < 30,
      `3 ms tasks measured as ${c?.cpuMsPerItem} ms of worker time`,
    );
    assert.match(c?.evidence ?? '', /on 2 workers/);
    // Only the workers computed: the main thread moved items and waited.
    assert.deepEqual(report.warnings, []);
  });

  test('a quick synchronous stage is not worth a warning, however many items it sees', async () => {
    const logger = recordingLogger();
    await flow(range(200_000))
      .map((x) => x + 1)
      .run({ logger });
    assert.deepEqual(logger.warnings, []);
  });
});

describe('the run report', () => {
  test('names the slowest stage as the bottleneck, with latency percentiles per stage', async () => {
    const report = await flow(range(60))
      .map(
        async function quick(x) {
          await sleep(1);
          return x;
        },
        { concurrency: 8 },
      )
      .map(
        async function slow(x) {
          await sleep(20);
          return x;
        },
        { concurrency: 2 },
      )
      .run();
    assert.equal(report.bottleneck?.stage, 'slow', JSON.stringify(report.bottleneck));
    const latency = stage(report, 'slow').latencyMs;
    assert.ok(
      latency !== undefined && latency.p50 >= 19 && latency.p99 >= latency.p50,
      JSON.stringify(latency),
    );
    assert.ok(stage(report, 'slow').busy > stage(report, 'quick').busy);
  });

  test('is plain JSON: it survives a round trip unchanged', async () => {
    const report = await flow(range(100))
      .map(async (x) => x * 2, { concurrency: 4 })
      .filter((x) => x % 3 === 0)
      .batch({ size: 10 })
      .run();
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });

  test('reports how late the event loop ran while a stage blocked it', async () => {
    // Each item arrives in a macrotask of its own, so the loop turns, and its delay is seen, between them.
    async function* trickle(): AsyncGenerator<number> {
      for (let i = 0; i < 8; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        yield i;
      }
    }
    const report = await flow(trickle())
      .map(function block(x) {
        spin(40);
        return x;
      })
      .run({ logger: recordingLogger() });
    assert.ok(report.eventLoop.delayMs.max >= 20, JSON.stringify(report.eventLoop));
    assert.ok((stage(report, 'block').latencyMs?.max ?? 0) >= 39);
  });
});

describe('diagnostics channels', () => {
  test('sluice:run:start and sluice:run:end carry the run id, the stages and the final report', async () => {
    const seen: { channel: string; message: unknown }[] = [];
    const onStart = (message: unknown): void => void seen.push({ channel: 'start', message });
    const onEnd = (message: unknown): void => void seen.push({ channel: 'end', message });
    diagnosticsChannel.subscribe('sluice:run:start', onStart);
    diagnosticsChannel.subscribe('sluice:run:end', onEnd);
    try {
      const report = await flow([1, 2, 3])
        .map(async (x) => x, { name: 'double' })
        .run();
      const start = seen.find((s) => s.channel === 'start')?.message as { runId: string; stages: string[] };
      const end = seen.find((s) => s.channel === 'end')?.message as { runId: string; report: RunReport };
      assert.deepEqual(start.stages, ['double']);
      assert.equal(end.runId, start.runId);
      assert.equal(end.report, report);
    } finally {
      diagnosticsChannel.unsubscribe('sluice:run:start', onStart);
      diagnosticsChannel.unsubscribe('sluice:run:end', onEnd);
    }
  });

  test('sluice:insight:warning carries the blocking warning', async () => {
    const warnings: unknown[] = [];
    const onWarning = (message: unknown): void => void warnings.push(message);
    diagnosticsChannel.subscribe('sluice:insight:warning', onWarning);
    try {
      await flow(range(30))
        .map(function crunch(x) {
          spin(5);
          return x;
        })
        .run({ logger: recordingLogger() });
    } finally {
      diagnosticsChannel.unsubscribe('sluice:insight:warning', onWarning);
    }
    assert.equal(warnings.length, 1);
    assert.equal((warnings[0] as { warning: { stage: string } }).warning.stage, 'crunch');
  });

  test('without a logger, the warning goes to process.emitWarning with its code', async () => {
    const emitted: Error[] = [];
    const onWarning = (warning: Error): void => void emitted.push(warning);
    process.on('warning', onWarning);
    try {
      await flow(range(30))
        .map(function crunch(x) {
          spin(5);
          return x;
        })
        .run();
      await sleep(0); // process warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    const ours = emitted.filter((w) => (w as Error & { code?: string }).code === 'SLUICE_W_LOOP_BLOCKED');
    assert.equal(ours.length, 1);
    assert.match(ours[0]?.message ?? '', /"crunch"/);
  });
});

describe('formatReport()', () => {
  test('prints a row per stage with its bound, then the bottleneck, the event loop and warnings', async () => {
    const report = await flow(range(40))
      .map(
        async function download(x) {
          await sleep(5);
          return x;
        },
        { concurrency: 8 },
      )
      .map(function crunch(x) {
        spin(3);
        return x;
      })
      .run({ logger: recordingLogger() });
    const text = formatReport(report);
    assert.match(text, /^completed in /);
    assert.match(text, /^download\s+map\s+40\s+.*io-bound$/m);
    assert.match(text, /^crunch\s+map\s+40\s+.*cpu-bound$/m);
    assert.match(text, /^bottleneck: crunch /m);
    assert.match(text, /^event loop: busy \d+%, delay p99 /m);
    assert.match(text, /^warning: Stage "crunch" blocks the event loop/m);
  });
});
