/**
 * `sluice tune`: sweeps concurrency against the real target (a URL, or a stage of a module's
 * flow), prints throughput and latency at each level with the knee marked, and plots them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { type TuneResult, tune } from 'sluice';
import { lineChart } from '../chart/line-chart.js';
import { CliError, usageError } from '../exit.js';
import { abortOnInterrupt, EXIT_INTERRUPTED } from '../interrupt.js';
import { wholeNumber } from '../lab/options.js';
import { formatTable } from '../lab/table.js';
import { moduleTarget, type SweepTarget, TuneTargetError, urlTarget } from '../tune/targets.js';

interface TuneCommandOptions {
  module?: string;
  stage?: string;
  levels: number[];
  durationMs: number;
  itemsPerLevel?: number;
  adaptive: boolean;
  timeoutMs: number;
  out: string;
  json: boolean;
}

const DEFAULT_LEVELS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

function levelList(value: string): number[] {
  const levels = value.split(',').map((part) => wholeNumber(1, 100_000)(part.trim()));
  return [...new Set(levels)].sort((a, b) => a - b);
}

export function registerTune(program: Command): void {
  program
    .command('tune')
    .summary('sweep concurrency against a URL or a stage of a flow, and find the knee')
    .description(
      [
        'Runs the target at each concurrency level in turn, for --duration-ms each (after a warm-up), and measures throughput and latency. ' +
          'Prints a table with the knee marked (the smallest level reaching 95% of the best throughput) and writes an SVG chart of throughput and p99 latency against concurrency.',
        'The target is GET <url> (the body read to the end; a status of 400 or more counts as an error), or with --module a stage of the flow the module exports by default, fed with the items that reach it. A swept stage is called many times: point it at a test service, not at production.',
        'Exit codes: 0 done, 1 failed, 2 bad usage, 130 interrupted.',
      ].join('\n\n'),
    )
    .argument('[url]', 'the URL to GET')
    .option('--module <file>', "sweep a stage of this module's flow instead of a URL")
    .option('--stage <name>', 'the stage to sweep (default: the first map, filter, flatMap, tap or forEach)')
    .addOption(
      new Option('--levels <list>', 'comma-separated concurrency levels')
        .argParser(levelList)
        .default(DEFAULT_LEVELS, DEFAULT_LEVELS.join(',')),
    )
    .addOption(
      new Option('--duration-ms <ms>', 'time at each level')
        .argParser(wholeNumber(10, 3_600_000))
        .default(2000),
    )
    .addOption(
      new Option('--items-per-level <n>', 'stop a level after this many items').argParser(wholeNumber(1)),
    )
    .option('--adaptive', "add a run under concurrency: 'adaptive', for comparison", false)
    .addOption(
      new Option('--timeout-ms <ms>', 'per request (URL targets)').argParser(wholeNumber(1)).default(10_000),
    )
    .option('--out <file>', 'where to write the SVG chart', 'sluice-tune.svg')
    .option('--json', 'print the result as JSON', false)
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  sluice tune http://127.0.0.1:8080/items/1 --levels 8,16,32,64,128,256,512 --duration-ms 3000',
        '  sluice tune --module ./crawl.js --stage fetchPage --adaptive',
      ].join('\n'),
    )
    .action(runTune);
}

async function runTune(url: string | undefined, options: TuneCommandOptions): Promise<void> {
  if ((url === undefined) === (options.module === undefined)) {
    throw usageError('give either a URL or --module <file>, not both');
  }
  if (url !== undefined && !/^https?:\/\//.test(url)) throw usageError(`not an http(s) URL: ${url}`);
  const interrupt = abortOnInterrupt();
  let target: SweepTarget | undefined;
  try {
    const most = Math.max(...options.levels);
    target =
      url !== undefined
        ? urlTarget(url, options.timeoutMs, most)
        : await moduleTarget(
            options.module as string,
            options.stage,
            Math.max(most * 4, options.itemsPerLevel ?? 0, 1000),
            interrupt.signal,
          ).catch((error: unknown) => {
            if (error instanceof TuneTargetError) throw usageError(error.message);
            throw error;
          });
    const result = await sweep(target, options, interrupt.signal);
    if (result === undefined) {
      process.stderr.write('sluice: interrupted (SLUICE_ERR_ABORTED)\n');
      await target.close();
      // The level in progress has no signal to stop it: its calls are abandoned with the process.
      process.exit(EXIT_INTERRUPTED);
    }
    // A sweep where no call succeeded measured nothing: a refused port is a failure, not a 0 items/s best.
    if (!result.levels.some((level) => level.items > level.errors)) {
      if (!options.json) process.stdout.write(`${formatTune(result, target.label)}\n`);
      const first = result.levels.find((level) => level.firstError !== undefined)?.firstError;
      throw new CliError(
        'SLUICE_ERR_TUNE_FAILED',
        `no call to ${target.label} succeeded at any level${first === undefined ? '' : `; the first error: ${first}`}`,
      );
    }
    const chart = resolve(options.out);
    await mkdir(dirname(chart), { recursive: true });
    await writeFile(chart, chartOf(result, target.label));
    if (options.json)
      process.stdout.write(`${JSON.stringify({ target: target.label, ...result, chart }, null, 2)}\n`);
    else process.stdout.write(`${formatTune(result, target.label)}\n\nChart: ${chart}\n`);
  } finally {
    interrupt.dispose();
    await target?.close();
  }
}

/** The sweep, level by level; undefined when Ctrl-C stopped it. */
async function sweep(
  target: SweepTarget,
  options: TuneCommandOptions,
  signal: AbortSignal,
): Promise<TuneResult | undefined> {
  const levels: (number | 'adaptive')[] = [...options.levels];
  if (options.adaptive) levels.push('adaptive');
  const stopped = new Promise<undefined>((resolveStopped) =>
    signal.addEventListener('abort', () => resolveStopped(undefined), { once: true }),
  );
  return Promise.race([
    tune(target.target, {
      items: target.items,
      levels,
      durationMs: options.durationMs,
      ...(options.itemsPerLevel === undefined ? {} : { itemsPerLevel: options.itemsPerLevel }),
    }),
    stopped,
  ]);
}

export function formatTune(result: TuneResult, label: string): string {
  const rows = result.levels.map((level) => [
    level.adaptive ? `adaptive (${level.concurrency})` : String(level.concurrency),
    Math.round(level.throughput).toLocaleString('en-US'),
    level.p50Ms.toFixed(1),
    level.p99Ms.toFixed(1),
    level.errors.toLocaleString('en-US'),
    !level.adaptive && level.concurrency === result.knee
      ? '<- knee'
      : !level.adaptive && level.concurrency === result.best
        ? '<- best'
        : '',
  ]);
  const table = formatTable(['concurrency', 'items/s', 'p50 ms', 'p99 ms', 'errors', ''], rows, [
    'right',
    'right',
    'right',
    'right',
    'right',
    'left',
  ]);
  const knee =
    result.knee === undefined
      ? 'No knee: no level completed an item.'
      : `Knee: concurrency ${result.knee} reaches ${Math.round(result.kneeRatio * 100)}% of the best throughput (at ${result.best}).`;
  return [`Concurrency sweep of ${label}`, '', table, '', knee].join('\n');
}

function chartOf(result: TuneResult, label: string): string {
  const fixed = result.levels.filter((level) => !level.adaptive);
  return lineChart({
    title: `Throughput and latency against concurrency`,
    subtitle: `${label}${result.knee === undefined ? '' : `; knee at ${result.knee}`}`,
    x: { label: 'concurrency', values: fixed.map((level) => level.concurrency), scale: 'log' },
    left: { label: 'throughput (items/s)' },
    right: { label: 'latency (ms)' },
    series: [
      { name: 'throughput', values: fixed.map((level) => level.throughput) },
      { name: 'p50 latency', values: fixed.map((level) => level.p50Ms), axis: 'right' },
      { name: 'p99 latency', values: fixed.map((level) => level.p99Ms), axis: 'right' },
    ],
  });
}
