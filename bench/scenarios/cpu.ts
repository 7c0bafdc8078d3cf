/**
 * One contender of the CPU benchmark: `tasks` sum-of-squares calls of size `n`, on the main thread
 * (serial) or on a pool of availableParallelism() worker threads.
 *   node --import tsx bench/scenarios/cpu.ts <contender> [tasks] [n] [numbers|rows]
 * rows: items are rows `{ id, n, tag }` and results `{ id, sum, tag }`, as most users' items are
 * objects (the contenders that take them: serial, sluice-flow, piscina, tinypool).
 * Every pool is created and warmed (each worker started, the task loaded and run) before the timer
 * starts, and closed after it stops. Each library is imported by its own contender only.
 * Prints one JSON line: { contender, items, seconds, itemsPerSecond, peakRssMb, cpu, checksum },
 * where cpu is the CPU each share of the process used while timed (see ../thread-cpu.ts).
 */
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CpuLedger } from '../thread-cpu.js';
import sum from './tasks/sum.mjs';
import sumRow from './tasks/sum-row.mjs';
import { warm as warmPool } from './warm.js';

const [contender = 'serial', tasksArg = '100000', nArg = '2000', shape = 'numbers'] = process.argv.slice(2);
const tasks = Number(tasksArg);
const n = Number(nArg);
const rows = shape === 'rows';
const workers = availableParallelism();
const sumUrl = new URL(rows ? './tasks/sum-row.mjs' : './tasks/sum.mjs', import.meta.url);
const sluiceUrl = new URL(rows ? './tasks/sum-object.task.mjs' : './tasks/sum.task.mjs', import.meta.url);

/** A row as the rows shape sends it, and what its task answers. */
interface Row {
  id: number;
  n: number;
  tag: string;
}
/** An item of the job: a number, or a row holding it. */
type Item = number | Row;
const item = (i: number, m: number): Item => (rows ? { id: i, n: m, tag: `item-${i}` } : m);
/** The sum an output carries. */
const sumOf = (out: unknown): number => (rows ? (out as { sum: number }).sum : (out as number));
/** The job's items, made before any timer starts: making 100,000 rows costs young collections of its own. */
const items: Item[] = Array.from({ length: tasks }, (_, i) => item(i, n));
/** What the serial contender does per item: the task the peers' workers run. */
const work = (one: Item): unknown => (typeof one === 'number' ? sum(one) : sumRow(one));
const warm = (runOne: (item: Item) => Promise<unknown>): Promise<void> =>
  warmPool((m) => runOne(item(0, m)) as Promise<number>, workers, n);

interface Contender {
  /** Runs before the timer: creates the pool and warms it. */
  setup(): Promise<void>;
  run(): Promise<unknown[]>;
  /** Runs after the timer. */
  teardown(): Promise<void>;
}

function allStarted(library: string, started: number): void {
  if (started !== workers) throw new Error(`${library} has ${started} of ${workers} workers after warm-up`);
}

/** `pool.run()` per task like the peers, or the same pool as a flow stage. */
function sluiceContender(viaFlow: boolean): Contender {
  let sluice: typeof import('sluice');
  let pool: import('sluice').WorkerPool<Item, unknown>;
  return {
    setup: async () => {
      sluice = await import('sluice');
      pool = new sluice.WorkerPool<Item, unknown>(sluiceUrl, { workers });
      await pool.ready();
      await warm((one) => pool.run(one));
    },
    run: () =>
      viaFlow
        ? sluice.flow(items).map(sluice.cpu<Item, unknown>(sluiceUrl, { pool })).collect()
        : Promise.all(items.map((one) => pool.run(one))),
    teardown: () => pool.close(),
  };
}

const contenders: Record<string, () => Contender> = {
  serial: () => ({
    setup: () => warm(async (one) => work(one)),
    run: async () => {
      const out = new Array<unknown>(tasks);
      for (let i = 0; i < tasks; i++) out[i] = work(items[i] as Item);
      return out;
    },
    teardown: async () => {},
  }),
  'sluice-flow': () => sluiceContender(true),
  'sluice-pool': () => sluiceContender(false),
  piscina: () => {
    let pool: import('piscina').Piscina<Item, unknown>;
    return {
      setup: async () => {
        const { Piscina } = await import('piscina');
        pool = new Piscina<Item, unknown>({
          filename: sumUrl.href,
          minThreads: workers,
          maxThreads: workers,
        });
        await warm((one) => pool.run(one));
        allStarted('piscina', pool.threads.length);
      },
      run: () => Promise.all(items.map((one) => pool.run(one))),
      teardown: () => pool.destroy(),
    };
  },
  tinypool: () => {
    let pool: import('tinypool').Tinypool;
    return {
      setup: async () => {
        const { Tinypool } = await import('tinypool');
        pool = new Tinypool({ filename: sumUrl.href, minThreads: workers, maxThreads: workers });
        await warm((one) => pool.run(one) as Promise<unknown>);
        allStarted('tinypool', pool.threads.length);
      },
      run: () => Promise.all(items.map((one) => pool.run(one) as Promise<unknown>)),
      teardown: () => pool.destroy(),
    };
  },
  workerpool: () => {
    let pool: import('workerpool').Pool;
    // Numbers only: its worker module registers `sum` by name.
    const exec = (one: Item): Promise<number> => pool.exec('sum', [one]) as unknown as Promise<number>;
    return {
      setup: async () => {
        const { default: workerpool } = await import('workerpool');
        pool = workerpool.pool(fileURLToPath(new URL('./tasks/sum.workerpool.mjs', import.meta.url)), {
          minWorkers: workers,
          maxWorkers: workers,
          workerType: 'thread',
        });
        await warm(exec);
        allStarted('workerpool', pool.stats().totalWorkers);
      },
      run: () => Promise.all(items.map(exec)),
      teardown: async () => {
        await pool.terminate();
      },
    };
  },
};

const make = contenders[contender];
if (make === undefined)
  throw new Error(`unknown contender ${contender}; one of ${Object.keys(contenders).join(', ')}`);
// Opened before setup, so the threads a contender starts (its workers) are told from the runtime's.
const ledger = new CpuLedger();
const chosen = make();
await chosen.setup();
// How late the main thread's event loop ran while the pool was saturated (the serial contender
// blocks it throughout, by design). The first tick only sets the histogram's baseline.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
await new Promise((resolve) => setTimeout(resolve, 30));
ledger.start();
const started = performance.now();
const out = await chosen.run();
const seconds = (performance.now() - started) / 1000;
const cpu = ledger.stop();
await new Promise((resolve) => setTimeout(resolve, 20));
loopDelay.disable();
await chosen.teardown();

// Every output is sum(n); the checksum adds them in order, exactly as the serial contender would.
const one = sum(n);
let expected = 0;
let checksum = 0;
for (let i = 0; i < tasks; i++) expected += one;
for (const value of out) checksum += sumOf(value);
if (out.length !== tasks || checksum !== expected || out.some((value) => sumOf(value) !== one))
  throw new Error(`${contender}: ${out.length} outputs, checksum ${checksum}, expected ${expected}`);
console.log(
  JSON.stringify({
    contender,
    items: tasks,
    n,
    workers,
    seconds,
    itemsPerSecond: tasks / seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    cpu,
    /** The delay histogram counts from each tick's due time: less its 10 ms period, the lateness. */
    loopDelayP99Ms: Math.max(0, loopDelay.percentile(99) / 1e6 - 10),
    checksum,
  }),
);
