/**
 * The combined flow: for each of `items` ids, fetch from a local HTTP server (a separate process,
 * `delayMs` per reply) at concurrency C, then run one sum-of-squares call of size `n` (about 1.9 ms)
 * on a pool of availableParallelism() worker threads, and collect.
 *   node --import tsx bench/scenarios/combined.ts calibrate [msPerCall]
 *   node --import tsx bench/scenarios/combined.ts <contender> [items] [n] [concurrency] [delayMs]
 * `calibrate` prints { n, msPerCall } for this machine; the runner calibrates once and passes n to
 * every contender so all do the same work (without n, a contender calibrates for itself).
 * `serial-cpu` runs only the CPU part on the main thread: the CPU floor is its time / cores.
 * Prints one JSON line with the wall time, the main thread's event-loop delay p99 while timed, and the
 * CPU each share used while timed: this process's threads and the server's process (../thread-cpu.ts).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { CpuLedger } from '../thread-cpu.js';
import sum from './tasks/sum.mjs';
import { warm } from './warm.js';

const args = process.argv.slice(2);
const contender = args[0] ?? 'sluice';
const workers = availableParallelism();

/** Median milliseconds of one sum(n) call on this thread. */
function msPerCall(n: number, calls: number): number {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    sum(n);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(calls / 2)] as number;
}

/** The n for which one call takes `targetMs`: a first guess from a timed call, then a few corrections. */
function calibrate(targetMs: number): number {
  for (let i = 0; i < 50; i++) sum(1_000_000); // let the JIT settle first
  let n = Math.round((1_000_000 * targetMs) / msPerCall(1_000_000, 21));
  for (let pass = 0; pass < 3; pass++) n = Math.round((n * targetMs) / msPerCall(n, 51));
  return n;
}

if (contender === 'calibrate') {
  const targetMs = Number(args[1] ?? 1.9);
  const n = calibrate(targetMs);
  console.log(JSON.stringify({ n, targetMs, msPerCall: msPerCall(n, 51) }));
  process.exit(0);
}

const items = Number(args[1] ?? 2000);
const n = args[2] === undefined ? calibrate(1.9) : Number(args[2]);
const concurrency = Number(args[3] ?? 200);
const delayMs = Number(args[4] ?? 20);
const ids = Array.from({ length: items }, (_, i) => i);
const sumUrl = new URL('./tasks/sum.mjs', import.meta.url);
const sluiceUrl = new URL('./tasks/sum.task.mjs', import.meta.url);

const server = fork(fileURLToPath(new URL('./http-server.ts', import.meta.url)), [String(delayMs)], {
  stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  execArgv: ['--import', 'tsx'],
});
const [firstChunk] = (await once(server.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
const origin = `http://127.0.0.1:${Number(firstChunk.toString().trim())}`;
const dispatcher = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });

/** Fetches item i and returns the size of the CPU work it asks for. */
async function fetchOne(i: number): Promise<number> {
  const { statusCode, body } = await request(`${origin}/${i}`, { dispatcher });
  const { path } = (await body.json()) as { path: string };
  if (statusCode !== 200 || path !== `/${i}`) throw new Error(`item ${i}: HTTP ${statusCode}, ${path}`);
  return n;
}

interface Contender {
  /** Runs before the timer: creates and warms the pool, opens the connections. */
  setup(): Promise<void>;
  run(): Promise<number[]>;
  /** Runs after the timer. */
  teardown(): Promise<void>;
}

const openConnections = async (): Promise<void> => {
  await Promise.all(Array.from({ length: concurrency }, (_, i) => fetchOne(i)));
};

const contenders: Record<string, () => Contender> = {
  'serial-cpu': () => ({
    setup: () => warm(async (m) => sum(m), workers, n),
    run: async () => ids.map(() => sum(n)),
    teardown: async () => {},
  }),
  sluice: () => {
    let sluice: typeof import('sluice');
    let pool: import('sluice').WorkerPool<number, number>;
    return {
      setup: async () => {
        sluice = await import('sluice');
        pool = new sluice.WorkerPool<number, number>(sluiceUrl, { workers });
        await pool.ready();
        await warm((m) => pool.run(m), workers, n);
        await openConnections();
      },
      run: () =>
        sluice
          .flow(ids)
          .map(fetchOne, { concurrency })
          .map(sluice.cpu<number, number>(sluiceUrl, { pool }))
          .collect(),
      teardown: () => pool.close(),
    };
  },
  'p-map+piscina': () => {
    let pool: import('piscina').Piscina<number, number>;
    let pMap: typeof import('p-map').default;
    return {
      setup: async () => {
        const { Piscina } = await import('piscina');
        pMap = (await import('p-map')).default;
        pool = new Piscina<number, number>({
          filename: sumUrl.href,
          minThreads: workers,
          maxThreads: workers,
        });
        await warm((m) => pool.run(m), workers, n);
        if (pool.threads.length !== workers)
          throw new Error(`piscina started ${pool.threads.length} workers`);
        await openConnections();
      },
      run: () => pMap(ids, async (i) => pool.run(await fetchOne(i)), { concurrency }),
      teardown: () => pool.destroy(),
    };
  },
};

const make = contenders[contender];
if (make === undefined)
  throw new Error(`unknown contender ${contender}; one of calibrate, ${Object.keys(contenders).join(', ')}`);
// Opened before setup, so the threads a contender starts (its workers) are told from the runtime's.
const ledger = new CpuLedger();
const chosen = make();
await chosen.setup();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
// The histogram's first tick only sets its baseline: take it before the timer, or a run that blocks
// the loop from its start (serial-cpu) would record nothing.
await new Promise((resolve) => setTimeout(resolve, 30));
ledger.start(server.pid);
const started = performance.now();
const out = await chosen.run();
const seconds = (performance.now() - started) / 1000;
const cpu = ledger.stop();
// One more turn of the loop, so that a run which blocked it throughout (serial-cpu) is recorded.
await new Promise((resolve) => setTimeout(resolve, 20));
loopDelay.disable();
await chosen.teardown();
await dispatcher.close();
server.disconnect();

const one = sum(n);
if (out.length !== items || out.some((value) => value !== one))
  throw new Error(`${contender}: ${out.length} outputs of ${items}, or a wrong one (expected ${one} each)`);
console.log(
  JSON.stringify({
    contender,
    items,
    n,
    concurrency,
    delayMs,
    workers,
    seconds,
    itemsPerSecond: items / seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    cpu,
    eventLoopP99Ms: loopDelay.percentile(99) / 1e6,
    eventLoopMaxMs: loopDelay.max / 1e6,
  }),
);
