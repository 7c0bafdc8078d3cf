/**
 * One contender of the CPU benchmark: `tasks` sum-of-squares calls of size `n`, on the main thread
 * (serial) or on a pool of availableParallelism() worker threads.
 *   node --import tsx bench/scenarios/cpu.ts <contender> [tasks] [n]
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
import { warm as warmPool } from './warm.js';

const [contender = 'serial', tasksArg = '100000', nArg = '2000'] = process.argv.slice(2);
const tasks = Number(tasksArg);
const n = Number(nArg);
const workers = availableParallelism();
const sumUrl = new URL('./tasks/sum.mjs', import.meta.url);
const sluiceUrl = new URL('./tasks/sum.task.js', import.meta.url);
const warm = (runOne: (n: number) => Promise<number>): Promise<void> => warmPool(runOne, workers, n);

interface Contender {
  /** Runs before the timer: creates the pool and warms it. */
  setup(): Promise<void>;
  run(): Promise<number[]>;
  /** Runs after the timer. */
  teardown(): Promise<void>;
}

function allStarted(library: string, started: number): void {
  if (started !== workers) throw new Error(`${library} has ${started} of ${workers} workers after warm-up`);
}

/** `pool.run()` per task like the peers, or the same pool as a flow stage. */
function sluiceContender(viaFlow: boolean): Contender {
  let sluice: typeof import('sluice');
  let pool: import('sluice').WorkerPool<number, number>;
  return {
    setup: async () => {
      sluice = await import('sluice');
      pool = new sluice.WorkerPool<number, number>(sluiceUrl, { workers });
      await pool.ready();
      await warm((m) => pool.run(m));
    },
    run: () =>
      viaFlow
        ? sluice
            .flow(Array.from({ length: tasks }, () => n))
            .map(sluice.cpu<number, number>(sluiceUrl, { pool }))
            .collect()
        : Promise.all(Array.from({ length: tasks }, () => pool.run(n))),
    teardown: () => pool.close(),
  };
}

const contenders: Record<string, () => Contender> = {
  serial: () => ({
    setup: () => warm(async (m) => sum(m)),
    run: async () => {
      const out = new Array<number>(tasks);
      for (let i = 0; i < tasks; i++) out[i] = sum(n);
      return out;
    },
    teardown: async () => {},
  }),
  'sluice-flow': () => sluiceContender(true),
  'sluice-pool': () => sluiceContender(false),
  piscina: () => {
    let pool: import('piscina').Piscina<number, number>;
    return {
      setup: async () => {
        const { Piscina } = await import('piscina');
        pool = new Piscina<number, number>({
          filename: sumUrl.href,
          minThreads: workers,
          maxThreads: workers,
        });
        await warm((m) => pool.run(m));
        allStarted('piscina', pool.threads.length);
      },
      run: () => Promise.all(Array.from({ length: tasks }, () => pool.run(n))),
      teardown: () => pool.destroy(),
    };
  },
  tinypool: () => {
    let pool: import('tinypool').Tinypool;
    return {
      setup: async () => {
        const { Tinypool } = await import('tinypool');
        pool = new Tinypool({ filename: sumUrl.href, minThreads: workers, maxThreads: workers });
        await warm((m) => pool.run(m) as Promise<number>);
        allStarted('tinypool', pool.threads.length);
      },
      run: () => Promise.all(Array.from({ length: tasks }, () => pool.run(n) as Promise<number>)),
      teardown: () => pool.destroy(),
    };
  },
  workerpool: () => {
    let pool: import('workerpool').Pool;
    const exec = (m: number): Promise<number> => pool.exec('sum', [m]) as unknown as Promise<number>;
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
      run: () => Promise.all(Array.from({ length: tasks }, () => exec(n))),
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
for (const value of out) checksum += value;
if (out.length !== tasks || checksum !== expected || out.some((value) => value !== one))
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
