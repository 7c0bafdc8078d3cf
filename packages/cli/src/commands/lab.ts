/**
 * `sluice lab`: reproduces the comparisons of the classic concurrency write-ups on this machine.
 * `lab` runs the IO, CPU and combined workloads by every approach; `lab bigfile` scans a large
 * log; `lab server` serves CPU-heavy requests from the event loop and from a worker pool.
 */
import { availableParallelism } from 'node:os';
import { type Command, Option } from 'commander';
import { type BigfileOptions, runBigfile } from '../lab/bigfile.js';
import { type ClusterOptions, runClusterLab } from '../lab/cluster.js';
import { type ComparisonOptions, runComparisons } from '../lab/comparisons.js';
import { byteSize, oneOrMoreOf, userName, wholeNumber } from '../lab/options.js';
import { runServerLab, type ServerOptions } from '../lab/server.js';
import { workloadNames } from '../lab/workloads.js';

const cores = availableParallelism();

const examples = `
Examples:
  sluice lab                                   all three workloads, 20 to 35 s on 2 cores
  sluice lab --workloads io --requests 500 --delay-ms 10 --json
  sluice lab bigfile --size 200MB              a 200 MB log, removed afterwards
  sluice lab server --clients 128
  sluice lab cluster --nats nats://127.0.0.1:4222

Exit codes: 0 done, 1 failed, 2 bad options, 130 interrupted (Ctrl-C closes servers and pools first).`;

/** A whole-number option from `min` (1 unless given) to `max`. */
function countOption(flags: string, description: string, max: number, fallback: number, min = 1): Option {
  return new Option(flags, description).argParser(wholeNumber(min, max)).default(fallback);
}

/** Options every lab command takes: --workers, --out and --json. */
function common(command: Command): Command {
  return command
    .addOption(
      countOption('--workers <n>', 'workers per pool (threads or child processes)', 256, cores).default(
        cores,
        `${cores}, the cores available`,
      ),
    )
    .addOption(new Option('--out <dir>', 'folder for the SVG charts').default('sluice-lab'))
    .option('--json', 'print the results as JSON instead of tables', false);
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
    .addHelpText('after', examples);
  common(lab).action((options: ComparisonOptions) => runComparisons(options).then(() => undefined));

  const bigfile = lab
    .command('bigfile')
    .description(
      "Generate a web-server access log (streamed to disk, flat memory) and count one user's lines: on one " +
        'thread reading chunks, line by line with readline, with sluice (chunks moved to worker threads and ' +
        'counted there) and with grep -cF for reference. Every count must agree, or the command fails ' +
        'with SLUICE_ERR_LAB_MISMATCH.',
    )
    .addOption(
      new Option('--size <bytes>', 'size of the log to generate, e.g. 200MB')
        .argParser(byteSize(1, 64 * 2 ** 30))
        .default(64 * 2 ** 20, '64MB'),
    )
    .option(
      '--file <path>',
      'count the lines of this existing log (common log format) instead of generating one',
    )
    .addOption(
      new Option('--user <name>', 'the user whose lines are counted').argParser(userName).default('alice'),
    )
    .addOption(
      new Option('--chunk <bytes>', 'bytes read at a time and sent to a worker as one item')
        .argParser(byteSize(4096, 2 ** 30))
        .default(2 ** 20, '1MB'),
    )
    .option('--keep', 'keep the generated log (access.log in the --out folder)', false);
  common(bigfile).action((options: BigfileOptions) => runBigfile(options).then(() => undefined));

  const server = lab
    .command('server')
    .description(
      'Serve HTTP requests whose handler does CPU work (a sum of squares), once computing on the event loop ' +
        'and once through a WorkerPool (the engine under cpu()), under many concurrent keep-alive clients ' +
        'on loopback (a separate process); print throughput and p50/p99 latency for each and chart them.',
    )
    .addOption(countOption('--requests <n>', 'requests per run, after a warm-up', 10_000_000, 2000))
    .addOption(countOption('--clients <n>', 'concurrent clients, one keep-alive connection each', 10_000, 64))
    .addOption(
      countOption(
        '--size <n>',
        'n of the sum of i*i for i < n per request (about 1 ms per million)',
        1e10,
        1_000_000,
      ),
    );
  common(server).action((options: ServerOptions) => runServerLab(options).then(() => undefined));

  lab
    .command('cluster')
    .description(
      'The broker-and-workers comparison: the same CPU workload (sums of squares) through NATS JetStream on ' +
        '1, 2 and 4 `sluice worker` processes (one thread each), then on 2 with one killed (SIGKILL) halfway ' +
        'through. Prints time, speed-up over one worker, items redelivered and items lost (0, or the command ' +
        'fails with SLUICE_ERR_LAB_MISMATCH), and charts the times.',
    )
    .addOption(new Option('--nats <url>', 'the NATS server with JetStream').default('nats://127.0.0.1:4222'))
    .addOption(countOption('--tasks <n>', 'sum-of-squares calls', 1_000_000, 400))
    .addOption(
      countOption('--size <n>', 'n of each sum of i*i for i < n (about 1 ms per million)', 1e10, 5_000_000),
    )
    .addOption(
      countOption(
        '--ack-wait <seconds>',
        "seconds before a killed worker's messages are delivered to another",
        3600,
        2,
      ),
    )
    .addOption(new Option('--out <dir>', 'folder for the SVG chart').default('sluice-lab'))
    .option('--json', 'print the results as JSON instead of a table', false)
    .action((options: ClusterOptions) => runClusterLab(options).then(() => undefined));
}
