/**
 * One contender of the cold-start CPU benchmark: a fresh process that runs `tasks` sum-of-squares
 * calls of size `n` once, with nothing warmed: no pool, no worker, no JIT feedback for the task.
 *   node bench/scenarios/cold.mjs <serial|sluice-flow|sluice-flow-named|sluice-flow-head-start|sluice-flow-no-head-start|sluice-flows-10> [tasks] [n] [mjs|mjs-full|objects|wide]  # compiled (dist/)
 *   node --conditions=sluice-source --import tsx bench/scenarios/cold.mjs ... ts   # from sources
 *   SLUICE_ROOT=<worktree> node bench/scenarios/cold.mjs ...   # that tree's dist/ and task module
 * Plain ESM so that, run without tsx, it measures what users of the compiled library run: `sluice`
 * resolves to packages/sluice/dist and the task is a plain .mjs module. The timer starts after the
 * imports (both contenders import sluice: the same process shape) and before the pool exists, and
 * stops at the last result.
 * Prints one JSON line: { contender, items, seconds, itemsPerSecond, loopDelayP99Ms, importMs, ... }.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

// SLUICE_ROOT=<a checkout or worktree> runs that tree's compiled library and task module instead
// of this one's: cold-ab.mjs times two trees with the same contenders.
const root = process.env.SLUICE_ROOT;
const importStarted = performance.now();
const { cpu, flow } = await import(
  root === undefined ? 'sluice' : pathToFileURL(`${root}/packages/sluice/dist/index.js`).href
);
const importMs = performance.now() - importStarted;

const [contender = 'serial', tasksArg = '100000', nArg = '2000', source = 'mjs'] = process.argv.slice(2);
const tasks = Number(tasksArg);
const n = Number(nArg);
// mjs: a plain task module importing sluice/task; mjs-full: the same importing all of sluice, as
// task modules written before sluice/task do; ts: the TypeScript task, for runs from sources;
// objects: items and results are small objects ({ id, n, tag } in, { id, sum, tag } out), which
// cross between threads by structured clone where numbers cost next to nothing; wide: rows of ten
// fields, as a database or an API gives them, which the task enriches ({ ...row, sum }).
const taskFiles = {
  mjs: 'sum.task.mjs',
  'mjs-full': 'sum-full.task.mjs',
  ts: 'sum.task.ts',
  objects: 'sum-object.task.mjs',
  wide: 'sum-wide.task.mjs',
};
const wide = source === 'wide';
const objects = source === 'objects' || wide;
const taskUrl =
  root === undefined
    ? new URL(`./tasks/${taskFiles[source]}`, import.meta.url)
    : pathToFileURL(`${root}/bench/scenarios/tasks/${taskFiles[source]}`);

// The serial contender's loop, written where a user would write it: in the program itself.
function sum(m) {
  let s = 0;
  for (let i = 0; i < m; i++) s += i * i;
  return s;
}
/** What the serial contender does per item: the task's own work. */
const work = wide
  ? (row) => ({ ...row, sum: sum(row.n) })
  : objects
    ? (item) => ({ id: item.id, sum: sum(item.n), tag: item.tag })
    : sum;

const contenders = {
  serial: async (items) => {
    const out = new Array(items.length);
    for (let i = 0; i < items.length; i++) out[i] = work(items[i]);
    return out;
  },
  // The default, whatever it is in the tree measured (cold-ab.mjs runs this file on other trees).
  'sluice-flow': (items) => flow(items).map(cpu(taskUrl)).collect(),
  // The same, on a stage named at the program's start, before it waited on something else (see
  // `named` below): what naming the stage does counts as the program's start, not the job's.
  'sluice-flow-named': (items) => flow(items).map(named).collect(),
  // With the calling thread standing in for workers still starting, said explicitly.
  'sluice-flow-head-start': (items) =>
    flow(items)
      .map(cpu(taskUrl, { headStart: true }))
      .collect(),
  // Workers only: the pool as it was before the head start.
  'sluice-flow-no-head-start': (items) =>
    flow(items)
      .map(cpu(taskUrl, { headStart: false }))
      .collect(),
  // A program that runs many flows: the same job as ten flows, one after another, each built anew.
  'sluice-flows-10': async (items) => {
    const out = [];
    const per = Math.ceil(items.length / 10);
    for (let from = 0; from < items.length; from += per) {
      const values = await flow(items.slice(from, from + per))
        .map(cpu(taskUrl))
        .collect();
      for (const value of values) out.push(value);
    }
    return out;
  },
};
const run = contenders[contender];
if (run === undefined) throw new Error(`unknown contender ${contender}; one of ${Object.keys(contenders)}`);

// The named contender's stage, named as a program names its stages at the top of a module, which
// then waits on something (a database to connect, say; here 20 ms) before the job runs.
let named;
if (contender === 'sluice-flow-named') {
  named = cpu(taskUrl);
  await new Promise((resolve) => setTimeout(resolve, 20));
}

const COUNTRIES = ['DE', 'FR', 'US', 'JP', 'BR'];
const wideRow = (i) => ({
  id: i,
  n,
  customer: `customer-${i % 5_000}`,
  email: `user${i}@example.com`,
  country: COUNTRIES[i % COUNTRIES.length],
  amount: (i % 10_000) / 100,
  currency: 'EUR',
  createdAt: new Date(1_764_547_200_000 + i * 1_000).toISOString(),
  status: i % 7 === 0 ? 'refunded' : 'paid',
  note: i % 3 === 0 ? null : `order ${i}`,
});
const items = Array.from({ length: tasks }, (_, i) =>
  wide ? wideRow(i) : objects ? { id: i, n, tag: `item-${i}` } : n,
);
// How late the event loop ran during the job (the serial contender blocks it throughout, by design).
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const started = performance.now();
const out = await run(items);
const seconds = (performance.now() - started) / 1000;
loopDelay.disable();

let expected = 0;
let checksum = 0;
const one = sum(n);
for (let i = 0; i < tasks; i++) expected += one;
for (const value of out) checksum += objects ? value.sum : value;
if (out.length !== tasks || checksum !== expected)
  throw new Error(`${contender}: ${out.length} outputs, checksum ${checksum}, expected ${expected}`);
console.log(
  JSON.stringify({
    contender,
    source,
    items: tasks,
    n,
    seconds,
    itemsPerSecond: tasks / seconds,
    importMs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    /** The delay histogram counts from each tick's due time: less its 10 ms period, the lateness. */
    loopDelayP99Ms: Math.max(0, loopDelay.percentile(99) / 1e6 - 10),
  }),
);
