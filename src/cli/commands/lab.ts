/**
 * `sluice lab`: reproduces the comparisons of the classic concurrency write-ups on this machine.
 * `lab` runs the IO, CPU and combined workloads by every approach; `lab bigfile` scans a large
 * log; `lab server` serves CPU-heavy requests from the event loop and from a worker pool.
 */
import { availableParallelism } from 'node:os';
import { type Command, Option } from 'commander';
import { type ComparisonOptions, runComparisons } from '../lab/comparisons.js';
import { oneOrMoreOf, wholeNumber } from '../lab/options.js';
import { workloadNames } from '../lab/workloads.js';

const cores = availableParallelism();

function outOption(): Option {
  return new Option('--out <dir>', 'folder for the SVG charts').default('sluice-lab');
}

function workersOption(): Option {
  return countOption('--workers <n>', 'workers per pool (threads or child processes)', 256, cores).default(
    cores,
    `${cores}, the cores available`,
  );
}

/** A whole-number option from `min` (1 unless given) to `max`. */
function countOption(flags: string, description: string, max: number, fallback: number, min = 1): Option {
  return new Option(flags, description).argParser(wholeNumber(min, max)).default(fallback);
}

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description(
      'Reproduce the classic concurrency comparisons on this machine: an IO workload (HTTP requests to a ' +
        'local server that answers after a fixed delay), a CPU workload (sums of squares) and a combined ' +
        'one (fetch, then compute), each run serially, with async concurrency, on worker threads and on ' +
        'child processes. Prints a table per workload and writes an SVG chart of each.',
    )
    .enablePositionalOptions()
    .addOption(
      new Option('--workloads <list>', `comma-separated, from ${workloadNames.join(', ')}`)
        .argParser(oneOrMoreOf(workloadNames))
        .default([...workloadNames], workloadNames.join(',')),
    )
    .addOption(
      countOption('--requests <n>', 'HTTP requests in the IO and combined workloads', 1_000_000, 100),
    )
    .addOption(countOption('--delay-ms <ms>', "the server's delay before each reply", 60_000, 25, 0))
    .addOption(countOption('--tasks <n>', 'sum-of-squares calls in the CPU workload', 1_000_000, 100))
    .addOption(
      countOption('--size <n>', 'n of each sum of i*i for i < n (about 1 ms per million)', 1e10, 10_000_000),
    )
    .addOption(countOption('--concurrency <n>', 'requests in flight for the async approaches', 10_000, 32))
    .addOption(workersOption())
    .addOption(outOption())
    .option('--json', 'print the results as JSON instead of tables', false)
    .addHelpText(
      'after',
      '\nExamples:\n  sluice lab\n  sluice lab --workloads io --requests 500 --delay-ms 10 --json\n  sluice lab bigfile --size 200MB\n  sluice lab server --clients 128',
    )
    .action(async (options: ComparisonOptions) => {
      await runComparisons(options);
    });
  void lab;
}
