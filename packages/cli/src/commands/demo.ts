/**
 * `sluice demo`: an asset-inventory ETL against forty simulated providers, end to end on this
 * machine. The work lives in ../demo/; this module reads the options and wires the pieces.
 */
import { fileURLToPath } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';
import { isSluiceError } from 'sluice';
import { NORMALIZE_TASK, runInventory } from '../demo/inventory.js';
import { isPostgresUrl, openStore } from '../demo/open-store.js';
import { MAX_ASSETS, Population } from '../demo/population.js';
import { type ProviderServer, startProviderProcess } from '../demo/provider-server.js';
import { isTableName } from '../demo/store.js';
import { demoSummary, printDemoSummary, remoteSummary } from '../demo/summary.js';
import { abortOnInterrupt, EXIT_INTERRUPTED } from '../interrupt.js';

export const DEFAULT_ASSETS = 100_000;
export const DEFAULT_DB = './sluice-demo.db';

interface DemoOptions {
  assets: number;
  providers: number;
  seed: number;
  db: string;
  table: string;
  workers?: number;
  nats?: string;
  json?: boolean;
  progress: boolean;
}

/** A commander parser for whole numbers in [min, max]; a bad value is a usage error (exit 2). */
function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value.replaceAll('_', ''));
    if (!Number.isInteger(parsed) || parsed < min || parsed > max)
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    return parsed;
  };
}

function tableName(value: string): string {
  if (!isTableName(value))
    throw new InvalidArgumentError('Expected a lower-case SQL identifier: letters, digits and _.');
  return value;
}

/** The file `sluice worker` must serve for `sluice demo --nats`: the normalize task of this copy. */
export function workerTaskPath(): string {
  return fileURLToPath(NORMALIZE_TASK).replace(/\.js$/, (js) =>
    // From source (tsx), the module on disk is the .ts file beside this one.
    import.meta.url.endsWith('.ts') ? '.ts' : js,
  );
}

/** No worker came: say which command starts one. */
function withWorkerHint(error: unknown): unknown {
  if (!isSluiceError(error) || error.code !== 'SLUICE_ERR_NO_WORKERS') return error;
  error.message = `${error.message.split('\n')[0]}; start one with: sluice worker ${workerTaskPath()} --nats <url>`;
  return error;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .summary('run an asset-inventory ETL against 40 simulated providers, into SQLite or PostgreSQL')
    .description(
      [
        'Runs an asset-inventory ETL of the kind security and IT teams run against dozens of products, entirely on this machine. A local service simulates the providers: paginated listings (cursors or page numbers), each with its own latency, record shape and rate limit (429 + Retry-After), and occasional 5xx. sluice fetches every page with retries and per-provider rate limits, normalizes the records on a worker pool (common schema, SHA-256 identity of the serial, MAC or host name), merges the devices several providers report, and upserts them in batches, one transaction each. Re-running changes no row.',
        'Ctrl-C stops cleanly: batches already loaded stay committed, none is left half-written.',
        'Exit codes: 0 done, 1 failed, 2 bad usage, 130 interrupted.',
      ].join('\n\n'),
    )
    .option(
      '--assets <n>',
      'devices in the simulated fleet (pages are made on the fly: millions fit in flat memory)',
      wholeNumber(1, MAX_ASSETS),
      DEFAULT_ASSETS,
    )
    .option('--providers <n>', 'simulated data providers', wholeNumber(1, 500), 40)
    .option(
      '--seed <n>',
      'seed of the simulated world: the same seed, the same devices and overlaps',
      wholeNumber(0, 0xffff_ffff),
      1,
    )
    .option('--db <target>', 'a SQLite file path, or a postgres://user@host:port/database URL', DEFAULT_DB)
    .option(
      '--table <name>',
      'table for the devices (the load log goes in <name>_loads)',
      tableName,
      'devices',
    )
    .option(
      '--workers <n>',
      'worker threads for the normalize stage (default: one per core)',
      wholeNumber(1, 256),
    )
    .option(
      '--nats <url>',
      'normalize on `sluice worker` processes reached through this NATS server, instead of on local threads',
    )
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'no live progress on stderr (a line per stage: rate, in flight, done, ETA)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  sluice demo                                    # 100,000 devices into ./sluice-demo.db',
        '  sluice demo --assets 2000000 --db /tmp/big.db  # scale up; memory stays flat',
        '  sluice demo --db postgres://postgres@127.0.0.1:5432/test',
        '  sluice demo --json | jq .uniqueDevices',
        '',
        'Normalizing on workers over NATS JetStream (two shells, or & them):',
        `  sluice worker ${workerTaskPath()} --nats nats://127.0.0.1:4222 --threads 1   # one or more`,
        '  sluice demo --nats nats://127.0.0.1:4222',
      ].join('\n'),
    )
    .action(demo);
}

async function demo(options: DemoOptions): Promise<void> {
  const population = new Population({
    seed: options.seed,
    assets: options.assets,
    providers: options.providers,
  });
  const store = await openStore(options.db, options.table).catch((error: unknown) => {
    const where = isPostgresUrl(options.db) ? 'PostgreSQL' : options.db;
    throw new Error(
      `cannot open the database (${where}): ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  });
  const interrupt = abortOnInterrupt();
  let server: ProviderServer | undefined;
  let outcome: Awaited<ReturnType<typeof runInventory>> | undefined;
  let failure: unknown;
  try {
    server = await startProviderProcess(population);
    outcome = await runInventory({
      population,
      origin: server.origin,
      store,
      signal: interrupt.signal,
      progress: options.progress,
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      ...(options.nats === undefined ? {} : { nats: options.nats }),
    });
  } catch (error) {
    failure = withWorkerHint(error);
    const { report, counts, remote } = error as Partial<NonNullable<typeof outcome>>;
    if (report !== undefined && counts !== undefined)
      outcome = { report, counts, ...(remote === undefined ? {} : { remote }) };
  } finally {
    interrupt.dispose();
    await server?.close();
  }
  try {
    if (outcome !== undefined) {
      const summary = demoSummary(outcome.report, {
        seed: options.seed,
        assets: options.assets,
        providers: options.providers,
        // After a failure the database may be unreachable too: the summary then says so with -1.
        ...(await store.counts().then(
          ({ devices, correlated }) => ({ uniqueDevices: devices, correlated }),
          (error: unknown) => {
            if (failure === undefined) throw error;
            return { uniqueDevices: -1, correlated: -1 };
          },
        )),
        rateLimited: outcome.counts.rateLimited,
        database: store.location,
        ...(outcome.remote === undefined ? {} : { remote: remoteSummary(outcome.remote) }),
      });
      printDemoSummary(summary, options.json === true);
    }
  } finally {
    await store.close();
  }
  if (failure === undefined) return;
  if (interrupt.interrupted) {
    process.stderr.write(
      'sluice: interrupted; every batch loaded before Ctrl-C is committed (SLUICE_ERR_ABORTED)\n',
    );
    process.exitCode = EXIT_INTERRUPTED;
    return;
  }
  throw failure;
}
