/**
 * `sluice worker <task modules...> --nats <url>`: a stateless process that serves cpu() stages
 * run elsewhere with `executor: jetstream(...)`. It pulls batches of the tasks it was started
 * with from NATS JetStream, runs them on worker threads here, and publishes the results. Logs
 * are JSON lines on stdout (pino), for any supervisor or log shipper.
 */
import { hostname } from 'node:os';
import { type Command, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { wholeNumber } from '../lab/options.js';
import { serveWorker } from '../worker/serve.js';

interface WorkerCommandOptions {
  nats: string;
  threads?: number;
  name?: string;
  wait: number;
  statsInterval: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

const logLevels = ['debug', 'info', 'warn', 'error'] as const;

/** `--wait`: seconds, or `forever`. */
function waitSeconds(value: string): number {
  if (value === 'forever') return Number.POSITIVE_INFINITY;
  const seconds = Number(value);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !Number.isFinite(seconds))
    throw new InvalidArgumentError('Expected seconds (0 or more), or forever.');
  return seconds;
}

function logLevel(value: string): (typeof logLevels)[number] {
  if (!(logLevels as readonly string[]).includes(value))
    throw new InvalidArgumentError(`Expected one of ${logLevels.join(', ')}.`);
  return value as (typeof logLevels)[number];
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .summary('serve task modules to flows on other machines, over NATS JetStream')
    .description(
      [
        "Starts a worker that runs the given task modules for cpu() stages whose executor is @sluice/nats's jetstream(): it pulls batches of items from JetStream, runs them on worker threads here, publishes each item's result and acks the batch. Workers hold no state: start as many as the work needs, on any machine that can reach the NATS server, and stop them at any time; a batch a stopped or crashed worker did not ack is delivered again to another.",
        'Logs are JSON lines on stdout (pino): starting, started, connection changes, progress, errors, stopping, stopped. SIGINT or SIGTERM drains (the batches in hand finish and are acked) and exits 0; a second signal exits 130 at once.',
        'At start the worker waits for the NATS server (--wait, for ever by default), logging each attempt, as a process under a supervisor should. A task module that does not exist or does not load is an error at once.',
        'Exit codes: 0 stopped cleanly, 1 failed (one coded line on stderr: SLUICE_ERR_TASK_NOT_FOUND, SLUICE_ERR_BROKER_UNREACHABLE, ...), 2 bad usage, 130 stopped by a second signal.',
      ].join('\n\n'),
    )
    .argument('<tasks...>', 'task modules to serve (files whose default export is a defineTask())')
    .requiredOption('--nats <url>', 'the NATS server(s), comma-separated: nats://host:4222')
    .addOption(
      new Option('--threads <n>', 'worker threads running the tasks (default: one per core)').argParser(
        wholeNumber(1, 256),
      ),
    )
    .option('--name <name>', 'the name this worker reports in heartbeats and logs', undefined)
    .addOption(
      new Option('--wait <seconds>', 'how long to wait for the NATS server at start, or forever')
        .argParser(waitSeconds)
        .default(Number.POSITIVE_INFINITY, 'forever'),
    )
    .addOption(
      new Option('--stats-interval <seconds>', 'seconds between progress lines while working; 0 for none')
        .argParser(wholeNumber(0, 86_400))
        .default(10),
    )
    .addOption(new Option('--log-level <level>', logLevels.join(', ')).argParser(logLevel).default('info'))
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  sluice worker ./normalize.task.js --nats nats://127.0.0.1:4222',
        '  sluice worker ./a.task.js ./b.task.js --nats nats://n1:4222,nats://n2:4222 --threads 4 --name box-7',
      ].join('\n'),
    )
    .action((tasks: string[], options: WorkerCommandOptions) => {
      const destination = pino.destination({ dest: 1, sync: false });
      // The destination writes asynchronously: what it holds is written before the process goes.
      process.once('exit', () => destination.flushSync());
      const logger = pino(
        { level: options.logLevel, base: { name: 'sluice-worker', pid: process.pid, hostname: hostname() } },
        destination,
      );
      return serveWorker({
        tasks,
        servers: options.nats,
        waitMs: options.wait * 1000,
        statsIntervalMs: options.statsInterval * 1000,
        logger,
        ...(options.threads === undefined ? {} : { threads: options.threads }),
        ...(options.name === undefined ? {} : { name: options.name }),
      });
    });
}
