/**
 * Runs every benchmark side by side with the peers, each contender in a fresh process, rounds
 * interleaved so that a noisy neighbour hurts every contender alike, and prints Markdown tables of
 * medians and ratios (absolute figures mean little on a shared machine; ratios travel).
 *
 *   npm run bench                    # everything
 *   npm run bench -- noop            # one group: machine | noop | terminals | policies | tail | retries | sources | short | memory | http | cpu-small | cpu-rows | cpu-large | cpu-cold | combined | adaptive | adaptive-hidden | adaptive-capacity | adaptive-retry-after | metrics-cost | remote | remote-cpu
 *   npm run bench -- noop --rounds 5
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { CpuShares } from './thread-cpu.js';

interface Result {
  contender: string;
  items: number;
  seconds: number;
  itemsPerSecond: number;
  peakRssMb: number;
  [key: string]: unknown;
}

const args = process.argv.slice(2);
const roundsFlag = args.indexOf('--rounds');
const rounds = roundsFlag === -1 ? 5 : Number(args[roundsFlag + 1]);
const groups = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--rounds');
const wanted = (group: string): boolean => groups.length === 0 || groups.includes(group);

/**
 * Scenarios that reach into the library's sources and so measure them, not the compiled library:
 * they switch or patch a module of the sources (metrics sampling off, an adaptive limit's trace,
 * the CLI's worker process), which the compiled library does not share. Every other scenario runs
 * on the compiled library, as users run it (the sources under tsx ran every terminal 5% to 19%
 * slower, bench/RESULTS.md), and the noop group's no-metrics contender keeps it on the sources.
 */
const onSources = new Set(['metrics-cost.ts', 'adaptive.ts', 'remote.ts']);

let built = false;
/**
 * Builds the library's dist/ once, for the groups that measure it compiled, as users run it: the
 * build is a few seconds, a stale dist/ a wrong figure.
 */
function buildLibrary(): void {
  if (built) return;
  execFileSync('npm', ['run', 'build', '-w', 'packages/sluice'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  built = true;
}

function scenario(file: string, ...scenarioArgs: string[]): Result {
  return runScenario(file, scenarioArgs);
}

function runScenario(file: string, scenarioArgs: string[], compiled = !onSources.has(file)): Result {
  const path = fileURLToPath(new URL(`./scenarios/${file}`, import.meta.url));
  // The scenario resolves `sluice` as this process does: to the sources under `npm run bench`
  // (--conditions=sluice-source), not to a dist/ built at install and stale since; or, for a
  // group that measures the compiled library, to the dist/ buildLibrary() has just built.
  const conditions = compiled ? [] : process.execArgv.filter((arg) => arg.startsWith('--conditions'));
  if (compiled) buildLibrary();
  const out = execFileSync(process.execPath, [...conditions, '--import', 'tsx', path, ...scenarioArgs], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').at(-1) as string) as Result;
}

/** The middle of `values` (the upper of the two middles for an even count); 0 for none. */
function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
}

/** Runs each contender `rounds` times, interleaved, and keeps the run with the median throughput. */
function compare(
  file: string,
  contenders: string[],
  extra: string[],
  compiled?: boolean,
): Map<string, Result> {
  const runs = new Map<string, Result[]>(contenders.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    for (const contender of contenders) {
      const result = runScenario(file, [contender, ...extra], compiled);
      runs.get(contender)?.push(result);
      process.stderr.write(
        `  ${file} ${contender} round ${round + 1}: ${fmt(result.itemsPerSecond)} items/s\n`,
      );
    }
  }
  return new Map(
    [...runs].map(([contender, results]) => {
      const sorted = [...results].sort((a, b) => a.itemsPerSecond - b.itemsPerSecond);
      const middle = sorted[Math.floor(sorted.length / 2)] as Result;
      // Peak RSS moves with the garbage collector's timing from one process to the next: report
      // its own median, and the highest seen, rather than the figure of the median-speed run.
      const rss = results.map((r) => r.peakRssMb);
      return [contender, { ...middle, peakRssMb: median(rss), maxPeakRssMb: Math.max(...rss) }];
    }),
  );
}

/** A run's CPU by share, as `main / pool / runtime[ / server]` milliseconds. */
function cpuCell(r: Result): string {
  const cpu = r.cpu as CpuShares | undefined;
  if (cpu === undefined) return '-';
  const parts = [cpu.mainMs, cpu.poolMs, cpu.runtimeMs];
  if (cpu.otherProcessMs !== undefined) parts.push(cpu.otherProcessMs);
  return parts.map((ms) => ms.toFixed(0)).join(' / ');
}

/** The shortest wall time the run's CPU allows on this machine: all of it spread over every core. */
function cpuBoundSeconds(r: Result): number | undefined {
  const cpu = r.cpu as CpuShares | undefined;
  if (cpu === undefined) return undefined;
  const total = cpu.mainMs + cpu.poolMs + cpu.runtimeMs + (cpu.otherProcessMs ?? 0);
  return total / 1000 / availableParallelism();
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(1);
}

/**
 * A table of throughput with each contender's ratio to p-map and its share of the bare loop, by
 * wall time and by CPU time (items per CPU-second: steadier on a shared machine, where another
 * process's load stretches wall time but not a contender's own CPU).
 */
function ratioTable(
  results: Map<string, Result>,
  pmapName: string,
  bareName: string,
  bareLabel: string,
): string[] {
  const pmap = results.get(pmapName) as Result;
  const bare = results.get(bareName) as Result;
  const perCpu = (r: Result): number => r.items / (r.cpuSeconds as number);
  const rows = [
    `| contender | items/s | vs p-map | ${bareLabel} | items/CPU-s | vs p-map, CPU | ${bareLabel}, CPU | peak RSS |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [name, r] of results) {
    rows.push(
      `| ${name} | ${fmt(r.itemsPerSecond)} | ${(r.itemsPerSecond / pmap.itemsPerSecond).toFixed(2)}x | ${(
        (100 * r.itemsPerSecond) / bare.itemsPerSecond
      ).toFixed(0)}% | ${fmt(perCpu(r))} | ${(perCpu(r) / perCpu(pmap)).toFixed(2)}x | ${(
        (100 * perCpu(r)) / perCpu(bare)
      ).toFixed(0)}% | ${r.peakRssMb.toFixed(0)} MB |`,
    );
  }
  return rows;
}

/**
 * What collect and for await could reach at best in this very run: run()'s time an item plus the
 * array's alone (collect keeps every result), or plus the async protocol's alone (a for await
 * pays a promise an item), as shares of the bare loop. A terminal's share read against its
 * ceiling says how much of what is left is the flow's, and how much the work the terminal must do.
 */
function terminalCeilings(results: Map<string, Result>): string {
  const share = (name: string): number =>
    (results.get(name) as Result).itemsPerSecond / (results.get('bare-loop-sum') as Result).itemsPerSecond;
  const ceiling = (alone: string): number => 1 / (1 / share('sluice-run') + 1 / share(alone));
  const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;
  return (
    `At best, by this run's own figures: collect ${pct(ceiling('array-alone'))} of the bare loop ` +
    `(run() and the array alone; measured ${pct(share('sluice-collect'))}), for await ` +
    `${pct(ceiling('for-await-alone'))} (run() and the protocol alone; measured ${pct(share('sluice-for-await'))}).`
  );
}

/** A table of calls a second, each contender against p-map, under a heading and its command. */
function callsTable(results: Map<string, Result>, title: string, group: string): void {
  const pmap = results.get('p-map') as Result;
  lines.push(
    `### ${title}`,
    '',
    `\`npm run bench -- ${group}\``,
    '',
    '| contender | calls/s | vs p-map | peak RSS |',
    '| --- | ---: | ---: | ---: |',
  );
  for (const [name, r] of results)
    lines.push(
      `| ${name} | ${fmt(r.itemsPerSecond)} | ${(r.itemsPerSecond / pmap.itemsPerSecond).toFixed(2)}x | ${r.peakRssMb.toFixed(0)} MB |`,
    );
  lines.push('');
}

const lines: string[] = [
  `Node ${process.version}, ${availableParallelism()} cores; median of ${rounds} interleaved rounds, each contender in its own process; the compiled library (dist/) unless a heading says sources.`,
  '',
];

/**
 * What the machine allows, no library involved (scenarios/machine.mjs): the parallel ceiling of
 * one process per core against one alone, what memory costs on its first write, what a growing
 * array of a million numbers costs. Medians of the rounds.
 */
if (wanted('machine')) {
  const path = fileURLToPath(new URL('./scenarios/machine.mjs', import.meta.url));
  const runs = Array.from({ length: rounds }, () => {
    const out = execFileSync(process.execPath, [path], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return JSON.parse(out.trim()) as Record<string, number>;
  });
  const medianOf = (key: string): number => median(runs.map((r) => r[key] as number));
  lines.push(
    '### The machine: what no library can beat',
    '',
    '`npm run bench -- machine`',
    '',
    '| figure | median | range |',
    '| --- | ---: | ---: |',
  );
  const row = (label: string, key: string, unit: string, digits: number): void => {
    const values = runs.map((r) => (r[key] as number).toFixed(digits));
    lines.push(`| ${label} | ${medianOf(key).toFixed(digits)}${unit} | ${values.join(', ')} |`);
  };
  row(
    `400 large sums, one process per core (${availableParallelism()}) against one alone`,
    'parallelCeiling',
    'x',
    2,
  );
  row('memory written the first time, per MB', 'firstTouchMsPerMb', ' ms', 2);
  row('the same memory written again, per MB', 'againMsPerMb', ' ms', 3);
  row('1,000,000 numbers pushed into an array and summed', 'pushMs', ' ms', 0);
  row('the slowest of those pushes (the array growing)', 'worstPushMs', ' ms', 1);
  row('a bare worker thread, from `new Worker()` to its first message', 'workerReadyMs', ' ms', 1);
  row('the CPU the process spent meanwhile', 'workerCpuMs', ' ms', 1);
  lines.push('');
}

if (wanted('noop')) {
  const contenders = [
    'bare-loop',
    'sluice-flow',
    'sluice-flow-no-metrics',
    'sluice-flow-unordered',
    'sluice-map',
    'p-map',
    'p-limit',
    'Readable.map',
  ];
  // On the sources: the no-metrics contender switches sampling off in the sources' module.
  const results = compare('noop.ts', contenders, ['1000000', '64'], false);
  lines.push(
    '### 1,000,000 async no-op items, one map step, concurrency 64 (sources)',
    '',
    '`npm run bench -- noop`',
    '',
  );
  lines.push(...ratioTable(results, 'p-map', 'bare-loop', 'vs bare loop'), '');
}

if (wanted('noop') || wanted('terminals')) {
  // Every terminal consumes (adds up) every result; so do the bare loop and p-map they are held to.
  const contenders = [
    'bare-loop-sum',
    'sluice-run',
    'sluice-reduce',
    'sluice-collect',
    'sluice-forEach',
    'sluice-for-await',
    // Piped into a Node Writable, as ETL output is written: sluice's toReadable() and Node's own Readable.map.
    'sluice-toReadable',
    'Readable.map-pipe',
    'p-map-sum',
    // What the protocol and the array cost alone: the part of for-await and collect no engine removes.
    'for-await-alone',
    'array-alone',
  ];
  const results = compare('noop.ts', contenders, ['1000000', '64']);
  lines.push(
    '### Every terminal: 1,000,000 async no-op items, one map step, concurrency 64, every result consumed',
    '',
    '`npm run bench -- terminals`',
    '',
  );
  lines.push(...ratioTable(results, 'p-map-sum', 'bare-loop-sum', 'vs bare loop (summing)'), '');
  lines.push(terminalCeilings(results), '');
}

if (wanted('policies')) {
  // A stage's policies on fast calls: what each costs an item beside the stage without any.
  const contenders = [
    'bare-loop',
    'sluice-run',
    'sluice-timeout',
    'sluice-timeout-signal',
    'sluice-retry',
    'sluice-adaptive',
    'sluice-all-policies',
    'p-map',
    'p-map-timeout',
  ];
  const results = compare('noop.ts', contenders, ['200000', '64']);
  lines.push(
    '### Policies: 200,000 async no-op items, one map step at concurrency 64 (or adaptive), with a timeout, retries, an adaptive limit',
    '',
    '`npm run bench -- policies`',
    '',
  );
  lines.push(...ratioTable(results, 'p-map', 'bare-loop', 'vs bare loop'), '');
}

if (wanted('tail')) {
  // Calls with a tail (2 to 5 ms, one in fifty of 100 ms), results consumed in order.
  callsTable(
    compare('tail.ts', ['sluice-ordered', 'sluice-unordered', 'p-map', 'Readable.map'], ['20000']),
    'Tail latency: 20,000 calls of 2 to 5 ms, one in fifty of 100 ms, concurrency 64, results consumed in order',
    'tail',
  );
}

if (wanted('retries')) {
  // A flaky service: one call in ten fails once and is retried after 500 ms.
  callsTable(
    compare('retries.ts', ['sluice', 'p-map', 'no-failures'], ['5000']),
    'Retries: 5,000 calls of 20 ms, concurrency 64, one in ten failing once and retried after 500 ms',
    'retries',
  );
}

if (wanted('sources')) {
  // Sources users read from, each beside reading it alone and beside its peer over the same source.
  const contenders = [
    'async-source-alone',
    'sluice-async-source',
    'p-map-async-source',
    'readable-source-alone',
    'sluice-readable-source',
    'Readable.map-readable-source',
    // A paged API: 10,000 async pages of 100 rows, flattened.
    'sluice-flatMap',
    'Readable.flatMap',
    'p-map-pages',
  ];
  const results = compare('noop.ts', contenders, ['1000000', '64']);
  lines.push(
    '### Sources: 1,000,000 items from an async generator, from a Node Readable, and as 10,000 pages of 100 rows flattened (flatMap), concurrency 64, summed',
    '',
    '`npm run bench -- sources`',
    '',
  );
  lines.push(
    ...ratioTable(results, 'p-map-async-source', 'async-source-alone', 'vs reading the generator alone'),
    '',
  );
}

if (wanted('short')) {
  const results = compare(
    'short.ts',
    ['sluice-flow', 'sluice-map', 'p-map', 'Readable.map', 'sluice-flow-timeout', 'p-map-timeout'],
    ['20000'],
  );
  const pmap = results.get('p-map') as Result;
  lines.push(
    '### 20,000 short flows one after another: ten async items each, concurrency 4',
    '',
    '`npm run bench -- short`',
    '',
    '| contender | flows/s | per flow | vs p-map | peak RSS |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const [name, r] of results) {
    lines.push(
      `| ${name} | ${fmt(r.itemsPerSecond)} | ${(1e6 / r.itemsPerSecond).toFixed(0)} us | ${(
        r.itemsPerSecond / pmap.itemsPerSecond
      ).toFixed(2)}x | ${r.peakRssMb.toFixed(0)} MB |`,
    );
  }
  lines.push('');
}

if (wanted('memory')) {
  const small = compare('memory.ts', ['three-stage'], ['1000000']).get('three-stage') as Result;
  const large = compare('memory.ts', ['three-stage'], ['10000000']).get('three-stage') as Result;
  lines.push(
    '### Memory stays flat: a three-stage flow (map, filter, batch) over 1 M and 10 M generated items',
    '',
    '`npm run bench -- memory`',
    '',
    '| items | items/s | peak RSS, median | peak RSS, highest |',
    '| ---: | ---: | ---: | ---: |',
    `| 1,000,000 | ${fmt(small.itemsPerSecond)} | ${small.peakRssMb.toFixed(0)} MB | ${Number(small.maxPeakRssMb).toFixed(0)} MB |`,
    `| 10,000,000 | ${fmt(large.itemsPerSecond)} | ${large.peakRssMb.toFixed(0)} MB | ${Number(large.maxPeakRssMb).toFixed(0)} MB |`,
    '',
    `Median peak RSS at 10 M is ${(large.peakRssMb / small.peakRssMb).toFixed(2)}x the median at 1 M.`,
    '',
  );
}

if (wanted('http')) {
  const results = compare('http.ts', ['sluice-flow', 'p-map'], ['100000', '5000']);
  const pmap = results.get('p-map') as Result;
  lines.push(
    '### 100,000 requests to a local HTTP server (separate process), concurrency 5,000',
    '',
    '`npm run bench -- http`',
    '',
    '| contender | requests/s | vs p-map | ok | errors | all accounted for | peak RSS |',
    '| --- | ---: | ---: | ---: | --- | --- | ---: |',
  );
  for (const [name, r] of results) {
    lines.push(
      `| ${name} | ${fmt(r.itemsPerSecond)} | ${(r.itemsPerSecond / pmap.itemsPerSecond).toFixed(2)}x | ${r.ok} | ${JSON.stringify(
        r.errors,
      )} | ${r.accounted ? 'yes' : 'NO'} | ${r.peakRssMb.toFixed(0)} MB |`,
    );
  }
  lines.push('');
}

/** The CPU pool against the peers, all with availableParallelism() workers, each warmed before timing. */
function cpuGroup(group: string, tasks: number, n: number, title: string, shape = 'numbers'): void {
  const contenders =
    shape === 'rows'
      ? ['serial', 'sluice-flow', 'piscina', 'tinypool']
      : ['serial', 'sluice-flow', 'sluice-pool', 'piscina', 'tinypool', 'workerpool'];
  const results = compare('cpu.ts', contenders, [String(tasks), String(n), shape]);
  const serial = results.get('serial') as Result;
  lines.push(
    title,
    '',
    `\`npm run bench -- ${group}\``,
    '',
    '| contender | tasks/s | vs serial | event-loop p99 | peak RSS | CPU ms: main / pool / runtime | at most, by CPU |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const [name, r] of results) {
    const loop = (r as Result & { loopDelayP99Ms?: number }).loopDelayP99Ms;
    const bound = cpuBoundSeconds(r);
    lines.push(
      `| ${name} | ${fmt(r.itemsPerSecond)} | ${(r.itemsPerSecond / serial.itemsPerSecond).toFixed(2)}x | ${loop === undefined ? '-' : `${loop.toFixed(1)} ms`} | ${r.peakRssMb.toFixed(0)} MB | ${cpuCell(r)} | ${bound === undefined ? '-' : `${(serial.seconds / bound).toFixed(2)}x`} |`,
    );
  }
  lines.push(
    '',
    "The CPU columns: the main thread, the pool's threads and the runtime's own threads (V8's compiler and garbage-collector helpers) while timed; *at most, by CPU* is the ratio a perfect schedule of that CPU over every core would reach.",
    '',
  );
}

if (wanted('cpu-small')) {
  cpuGroup(
    'cpu-small',
    100_000,
    2_000,
    `### 100,000 small CPU tasks (sum of squares, n = 2,000, a few microseconds each), ${availableParallelism()} workers`,
  );
}

if (wanted('cpu-rows')) {
  cpuGroup(
    'cpu-rows',
    100_000,
    2_000,
    `### 100,000 small CPU tasks over rows (\`{ id, n, tag }\` in, \`{ id, sum, tag }\` out, n = 2,000), ${availableParallelism()} workers`,
    'rows',
  );
}

if (wanted('cpu-large')) {
  cpuGroup(
    'cpu-large',
    400,
    5_000_000,
    `### 400 large CPU tasks (sum of squares, n = 5,000,000, a few milliseconds each), ${availableParallelism()} workers`,
  );
}

/**
 * cpu() from a cold process: each contender a fresh process that runs the job once, timed from before
 * the pool exists to the last result, against the serial loop in the same shape. Run both ways
 * users run it: the compiled library with a plain .mjs task, and the sources under tsx (where every
 * worker also loads tsx). Reports the best of the rounds (the least disturbed by the neighbours)
 * and the range.
 */
function cpuColdGroup(): void {
  const path = fileURLToPath(new URL('./scenarios/cold.mjs', import.meta.url));
  const modes = [
    { name: 'compiled, task imports sluice/task', argv: [] as string[], source: 'mjs' },
    { name: 'compiled, task imports sluice', argv: [] as string[], source: 'mjs-full' },
    // Most users' items are objects: each one is cloned to its worker and its result back.
    { name: 'compiled, object items and results', argv: [] as string[], source: 'objects' },
    // An ETL step's rows: ten fields, enriched and handed back (`{ ...row, sum }`).
    { name: 'compiled, ten-field rows enriched', argv: [] as string[], source: 'wide' },
    { name: 'sources', argv: ['--conditions=sluice-source', '--import', 'tsx'], source: 'ts' },
  ];
  const sizes = [
    { tasks: 10_000, n: 2_000 },
    { tasks: 100_000, n: 2_000 },
    { tasks: 1_000_000, n: 2_000 },
    { tasks: 400, n: 5_000_000 },
  ];
  const contenders = [
    'serial',
    'sluice-flow',
    'sluice-flow-named',
    'sluice-flow-no-head-start',
    'sluice-flows-10',
  ];
  const runs = new Map<string, Result[]>();
  const key = (mode: string, size: { tasks: number; n: number }, contender: string): string =>
    `${mode} ${size.tasks} ${size.n} ${contender}`;
  for (let round = 0; round < rounds; round++) {
    for (const size of sizes) {
      for (const mode of modes) {
        for (const contender of contenders) {
          const out = execFileSync(
            process.execPath,
            [...mode.argv, path, contender, String(size.tasks), String(size.n), mode.source],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
          );
          const result = JSON.parse(out.trim().split('\n').at(-1) as string) as Result;
          const k = key(mode.name, size, contender);
          runs.set(k, [...(runs.get(k) ?? []), result]);
          process.stderr.write(`  cold ${k} round ${round + 1}: ${(result.seconds * 1000).toFixed(0)} ms\n`);
        }
      }
    }
  }
  const best = (k: string): Result =>
    [...(runs.get(k) ?? [])].sort((a, b) => a.seconds - b.seconds)[0] as Result;
  const range = (k: string): string => {
    const s = (runs.get(k) ?? []).map((r) => r.seconds * 1000);
    return `${Math.min(...s).toFixed(0)}-${Math.max(...s).toFixed(0)} ms`;
  };
  const medianSeconds = (k: string): number => median((runs.get(k) ?? []).map((r) => r.seconds));
  lines.push(
    `### cpu() from a cold process: flow(items).map(cpu(url)).collect() against the serial loop, ${availableParallelism()} workers`,
    '',
    `\`npm run bench -- cpu-cold --rounds ${rounds}\``,
    '',
    'Each run a fresh process, timed from before the pool exists to the last result (imports excluded, the same for every contender). Ratios are serial time / cpu() time: best of the rounds, and of the medians. *cpu()* is `cpu(url)`, the default (head start on); *no head start* is `cpu(url, { headStart: false })`: the pool as it was before the calling thread could stand in for starting workers. Loop p99: how late the event loop ran during the cpu() run. *10 flows in a row*: the same job as ten flows run one after another in the process, each built anew with `cpu(url)` (pools kept warm between runs). *Named first*: `cpu(url)` called when the program starts, which then waits 20 ms (a database connecting, say) before the timed job, so the task module loads meanwhile.',
    '',
    '| library | tasks x n | serial | cpu() | cpu() vs serial: best / median | named first vs serial: best / median | no head start | no head start vs serial: best / median | loop p99: cpu() / no head start | 10 flows in a row | 10 flows vs serial: best / median |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const size of sizes) {
    for (const mode of modes) {
      const [serial, pooled, named, cold, many] = contenders.map((c) => key(mode.name, size, c)) as [
        string,
        string,
        string,
        string,
        string,
      ];
      const ratios = (k: string): string =>
        `${(best(serial).seconds / best(k).seconds).toFixed(2)}x / ${(medianSeconds(serial) / medianSeconds(k)).toFixed(2)}x`;
      lines.push(
        `| ${mode.name} | ${size.tasks.toLocaleString('en')} x ${size.n.toLocaleString('en')} | ${range(serial)} | ${range(pooled)} | ${ratios(pooled)} | ${ratios(named)} | ${range(cold)} | ${ratios(cold)} | ${Number(best(pooled).loopDelayP99Ms).toFixed(1)} / ${Number(best(cold).loopDelayP99Ms).toFixed(1)} ms | ${range(many)} | ${ratios(many)} |`,
      );
    }
  }
  lines.push('');
}

if (wanted('cpu-cold')) cpuColdGroup();

if (wanted('combined')) {
  // One n for every contender, measured once on this machine so that one call takes about 1.9 ms.
  const { n, msPerCall } = scenario('combined.ts', 'calibrate', '1.9') as unknown as {
    n: number;
    msPerCall: number;
  };
  const results = compare(
    'combined.ts',
    ['serial-cpu', 'sluice', 'p-map+piscina'],
    ['2000', String(n), '200', '20'],
  );
  const floor = (results.get('serial-cpu') as Result).seconds / availableParallelism();
  lines.push(
    '### Combined flow: 2,000 items, each fetched from a local HTTP server (20 ms, concurrency 200), then ~1.9 ms of CPU on a pool',
    '',
    '`npm run bench -- combined`',
    '',
    `Sum of squares with n = ${n.toLocaleString('en')} (${msPerCall.toFixed(2)} ms per call when calibrated); CPU floor = serial-cpu seconds / ${availableParallelism()} cores = ${floor.toFixed(2)} s.`,
    '',
    '| contender | wall seconds | x of CPU floor | event-loop p99 | peak RSS | CPU ms: main / pool / runtime / server | at least, by CPU |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const [name, r] of results) {
    const bound = cpuBoundSeconds(r);
    lines.push(
      `| ${name} | ${r.seconds.toFixed(2)} | ${(r.seconds / floor).toFixed(2)}x | ${Number(r.eventLoopP99Ms).toFixed(1)} ms | ${r.peakRssMb.toFixed(0)} MB | ${cpuCell(r)} | ${bound === undefined ? '-' : `${(bound / floor).toFixed(2)}x`} |`,
    );
  }
  lines.push(
    '',
    "The CPU columns: the main thread, the pool's threads, the runtime's own threads (V8's compiler and garbage-collector helpers) and the HTTP server's process while timed; *at least, by CPU* is that CPU spread over every core, as a multiple of the floor: no schedule of the run's work can beat it.",
    '',
  );
}

if (wanted('adaptive')) {
  // One run: a sweep is already many measurements, and takes about a minute and a half.
  const r = scenario('adaptive.ts', 'latency', '5') as unknown as {
    ratio: number;
    settledRatio: number;
    knee: number;
    best: number;
    levels: { concurrency: number; adaptive: boolean; throughput: number; p50Ms: number; p99Ms: number }[];
  };
  lines.push(
    '### Adaptive concurrency against a server whose requests cost CPU (20 ms wait + 300 us of CPU each, in its own process on the same cores) (sources)',
    '',
    '`npm run bench -- adaptive`',
    '',
    'Fixed levels: tune(), each level warmed, then timed for 5 s. Adaptive: from a cold start, no concurrency set, timed for 15 s, convergence included.',
    '',
    '| concurrency | requests/s | p50 | p99 |',
    '| --- | ---: | ---: | ---: |',
  );
  for (const l of r.levels) {
    lines.push(
      `| ${l.adaptive ? `adaptive (ended at ${l.concurrency})` : l.concurrency} | ${fmt(l.throughput)} | ${l.p50Ms.toFixed(0)} ms | ${l.p99Ms.toFixed(0)} ms |`,
    );
  }
  lines.push(
    '',
    `Knee (95% of best): ${r.knee}; best fixed: ${r.best}. Adaptive: ${(100 * r.ratio).toFixed(0)}% of the best fixed throughput over its 15 s, ${(100 * r.settledRatio).toFixed(0)}% over its last 5 s (settled, as each fixed level is timed after a warm-up).`,
    '',
  );
}

if (wanted('adaptive-hidden')) {
  const r = scenario('adaptive.ts', 'hidden', '12', '150') as unknown as {
    itemsPerSecond: number;
    completed: boolean;
    requestsAfterWarmup: number;
    rejectedAfterWarmup: number;
    rejectedShare: number;
    retries: number;
    limit: { total: { final: number }; perKey: { peak: number } };
  };
  lines.push(
    '### Adaptive concurrency against a server that answers 429 above 150 in flight, unannounced (sources)',
    '',
    '`npm run bench -- adaptive-hidden`',
    '',
    '| requests/s | every item completed | final limit | peak limit | retries | rejected after the first 3 s |',
    '| ---: | --- | ---: | ---: | ---: | ---: |',
    `| ${fmt(r.itemsPerSecond)} | ${r.completed ? 'yes' : 'NO'} | ${r.limit.total.final} | ${r.limit.perKey.peak} | ${r.retries} | ${r.rejectedAfterWarmup} of ${r.requestsAfterWarmup} (${(100 * r.rejectedShare).toFixed(3)}%) |`,
    '',
  );
}

interface AdaptiveJob {
  ratio: number;
  best: string;
  rounds: number;
  perRound: number[];
  roundsMedian: number;
  levels: {
    contender: string;
    itemsPerSecond: number;
    slowest: number;
    fastest: number;
    p50Ms: number;
    p99Ms: number;
    requests: number;
    rejected: number;
    requestsSecondHalf: number;
    rejectedSecondHalf: number;
    limit?: { total: { final: number }; perKey: { peak: number } };
  }[];
}

/**
 * A job's table: each fixed level and 'adaptive' side by side, from one run of the scenario (its
 * rounds interleaved, each contender's run of median time shown with the range of all its runs).
 */
function adaptiveJobTable(title: string, command: string, r: AdaptiveJob): void {
  const share = (n: number, of: number): string => `${n} of ${of} (${((100 * n) / of).toFixed(2)}%)`;
  lines.push(
    title,
    '',
    command,
    '',
    `Each contender run ${r.rounds} times in rotated order after a warm-up job; the run of median time, and the range of every run's requests/s.`,
    '',
    '| concurrency | requests/s (range) | p50 | p99 | rejected, whole job | rejected, second half |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const l of r.levels) {
    const name =
      l.limit === undefined
        ? l.contender
        : `adaptive (peak ${l.limit.perKey.peak}, ended at ${l.limit.total.final})`;
    lines.push(
      `| ${name} | ${fmt(l.itemsPerSecond)} (${fmt(l.slowest)} to ${fmt(l.fastest)}) | ${l.p50Ms.toFixed(0)} ms | ${l.p99Ms.toFixed(0)} ms | ${share(l.rejected, l.requests)} | ${share(l.rejectedSecondHalf, l.requestsSecondHalf)} |`,
    );
  }
  lines.push(
    '',
    `Adaptive: ${(100 * r.ratio).toFixed(0)}% of the best fixed level (${r.best}), medians; each round's own: ${r.perRound.map((x) => `${(100 * x).toFixed(0)}%`).join(', ')} (their median ${(100 * r.roundsMedian).toFixed(0)}%).`,
    '',
  );
}

if (wanted('adaptive-capacity')) {
  for (const items of ['20000', '80000']) {
    const r = scenario('adaptive.ts', 'capacity', items, '1600,3200') as unknown as AdaptiveJob;
    adaptiveJobTable(
      `### Adaptive concurrency against a 200 ms service that holds thousands: a job of ${items} GETs (sources)`,
      `\`npm run bench -- adaptive-capacity\` (\`adaptive.ts capacity ${items} 1600,3200\`)`,
      r,
    );
  }
}

if (wanted('adaptive-retry-after')) {
  const r = scenario('adaptive.ts', 'retry-after', '20000', '300') as unknown as AdaptiveJob;
  adaptiveJobTable(
    '### Adaptive concurrency against a 50 ms service that answers 429 with `Retry-After: 1` above 300 in flight, unannounced, retries on: 20,000 GETs (sources)',
    '`npm run bench -- adaptive-retry-after` (`adaptive.ts retry-after 20000 300`)',
    r,
  );
}

if (wanted('metrics-cost')) {
  const r = scenario('metrics-cost.ts', '16') as unknown as {
    on: { median: number; best: number };
    off: { median: number; best: number };
    costMedian: number;
    costBest: number;
  };
  lines.push(
    '### What always-on metrics cost: the no-op flow with per-call sampling on and off (sources)',
    '',
    '`npm run bench -- metrics-cost` (one process, 16 interleaved rounds of 1,000,000 items each way)',
    '',
    '| sampling | median items/s | best items/s |',
    '| --- | ---: | ---: |',
    `| on | ${fmt(r.on.median)} | ${fmt(r.on.best)} |`,
    `| off | ${fmt(r.off.median)} | ${fmt(r.off.best)} |`,
    `| cost | ${(100 * r.costMedian).toFixed(1)}% | ${(100 * r.costBest).toFixed(1)}% |`,
    '',
  );
}

if (wanted('remote')) {
  // BullMQ takes a job per item: a tenth of the items keeps its rounds under half a minute.
  const results = new Map([
    ...compare('remote.ts', ['sluice-workers', 'raw-jetstream'], ['200000']),
    ...compare('remote.ts', ['bullmq'], ['20000']),
  ]);
  const raw = results.get('raw-jetstream') as Result;
  const bullmq = results.get('bullmq') as Result;
  lines.push(
    '### Tiny items end to end through a broker to 2 worker processes and back (sources)',
    '',
    '`npm run bench -- remote` (the local NATS 2.9 with JetStream, and the local Redis)',
    '',
    '| contender | items | items/s | vs BullMQ | vs raw JetStream loop |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const [name, r] of results) {
    lines.push(
      `| ${name} | ${r.items.toLocaleString('en')} | ${fmt(r.itemsPerSecond)} | ${(r.itemsPerSecond / bullmq.itemsPerSecond).toFixed(1)}x | ${((100 * r.itemsPerSecond) / raw.itemsPerSecond).toFixed(0)}% |`,
    );
  }
  lines.push(
    '',
    '`sluice-workers`: a cpu() stage with `executor: jetstream()` on two `sluice worker --threads 1` processes. `raw-jetstream`: a batched publish, consume and reply loop written directly with @nats-io/jetstream, 100 items per message, two consumer processes. `bullmq`: no-op jobs added in bulk, two worker processes of concurrency 100.',
    '',
  );
}

if (wanted('remote-cpu')) {
  // A fixed n rather than a calibration: on a busy machine one calibration can be off by 4x, and
  // the per-item time is measured from the local pool's run instead.
  const n = 2_000_000;
  const items = 2_000;
  const results = compare('remote.ts', ['sluice-workers-cpu', 'local-pool'], [String(items), String(n)]);
  const local = results.get('local-pool') as Result;
  lines.push(
    '### A CPU stage of ~2 ms items: on two `sluice worker --threads 1` processes over NATS, and on a local pool of 2 threads (sources)',
    '',
    '`npm run bench -- remote-cpu`',
    '',
    `${items.toLocaleString('en')} sum-of-squares calls with n = ${n.toLocaleString('en')} (about 2 ms on an idle core); in this run ${((local.seconds * 2 * 1000) / items).toFixed(2)} ms of wall time per item on each of the local pool's threads.`,
    '',
    '| contender | items/s | wall seconds | time vs local pool |',
    '| --- | ---: | ---: | ---: |',
  );
  for (const [name, r] of results) {
    lines.push(
      `| ${name} | ${fmt(r.itemsPerSecond)} | ${r.seconds.toFixed(2)} | ${(r.seconds / local.seconds).toFixed(2)}x |`,
    );
  }
  lines.push('');
}

console.log(lines.join('\n'));
