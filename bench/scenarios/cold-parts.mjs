/**
 * Where a cold cpu() run's time goes, part by part, each measured in a fresh process (`rounds`
 * times, interleaved) so nothing is warm: a bare worker thread's start, a worker importing
 * `sluice/task` or all of `sluice`, a pool's ready() for each kind of task module, and the
 * calling thread's first 10,000 items through the head start beside the same items in a loop and
 * in a flow's plain map step (what the flow itself costs, with no pool at all).
 *   node bench/scenarios/cold-parts.mjs [rounds]
 * Prints a Markdown table of the best and median milliseconds of each part.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const dist = new URL('../../packages/sluice/dist/', import.meta.url);
const tasks = new URL('./tasks/', import.meta.url);

/** Each part, run in a child process: resolves with its milliseconds. */
const parts = {
  'worker thread: start, first message': () => workerImporting(undefined),
  'worker thread: start, import sluice/task': () => workerImporting(new URL('task.js', dist).href),
  'worker thread: start, import sluice': () => workerImporting(new URL('index.js', dist).href),
  'pool ready: task imports sluice/task': () => poolReady('sum.task.mjs'),
  'pool ready: task imports sluice': () => poolReady('sum-full.task.mjs'),
  'pool ready: TypeScript task, sources under tsx': () => poolReady('sum.task.ts'),
  '10,000 items, serial loop': () => serialItems(10_000),
  '10,000 items, head start (no workers), sources under tsx': () => headStartItems(10_000),
  '10,000 items, flow(items).map(fn) on the calling thread': () => flowItems(10_000),
  '100,000 items, serial loop': () => serialItems(100_000),
  '100,000 items, flow(items).map(fn) on the calling thread': () => flowItems(100_000),
};

async function workerImporting(url) {
  const { Worker } = await import('node:worker_threads');
  const body = url === undefined ? 'Promise.resolve()' : `import(${JSON.stringify(url)})`;
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const code = `${body}.then(() => require('node:worker_threads').parentPort.postMessage(1))`;
    const worker = new Worker(code, { eval: true });
    worker.once('message', () => resolve(worker.terminate()));
    worker.once('error', reject);
  });
  return performance.now() - started;
}

async function poolReady(file) {
  const { WorkerPool } = await import('sluice');
  const started = performance.now();
  const pool = new WorkerPool(new URL(file, tasks), { headStart: false });
  await pool.ready();
  const ms = performance.now() - started;
  await pool.close();
  return ms;
}

function sum(m) {
  let s = 0;
  for (let i = 0; i < m; i++) s += i * i;
  return s;
}

async function serialItems(count) {
  const items = Array.from({ length: count }, () => 2_000);
  const started = performance.now();
  const out = new Array(count);
  for (let i = 0; i < count; i++) out[i] = sum(items[i]);
  return performance.now() - started;
}

/** The flow's own cost: the same function as a plain map step, no pool at all. */
async function flowItems(count) {
  const { flow } = await import('sluice');
  const items = Array.from({ length: count }, () => 2_000);
  const started = performance.now();
  await flow(items).map(sum).collect();
  return performance.now() - started;
}

/**
 * The head start alone, no pool around it: an internal module, so from the sources (`dist/` is
 * bundled and exports only the public entry points).
 */
async function headStartItems(count) {
  const sources = new URL('../../packages/sluice/src/', import.meta.url);
  const { HeadStart } = await import(new URL('exec/pool/head-start.ts', sources).href);
  const { systemClock } = await import(new URL('core/clock.ts', sources).href);
  const url = new URL('sum.task.mjs', tasks).href;
  const headStart = await new Promise((resolve) => {
    const made = new HeadStart(url, systemClock, () => resolve(made));
  });
  const items = Array.from({ length: 600 }, () => 2_000);
  const started = performance.now();
  for (let done = 0; done < count; done += items.length)
    headStart.run({ items: items.slice(0, Math.min(items.length, count - done)), first: done, attempt: 1 });
  return performance.now() - started;
}

const [first, second] = process.argv.slice(2);
if (first === '--part') {
  const ms = await parts[second]();
  console.log(JSON.stringify({ ms }));
} else {
  const rounds = Number(first ?? 5);
  const names = Object.keys(parts);
  const runs = new Map(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      const sources = name.includes('sources under tsx')
        ? ['--conditions=sluice-source', '--import', 'tsx']
        : [];
      const out = execFileSync(process.execPath, [...sources, self, '--part', name], { encoding: 'utf8' });
      runs.get(name).push(JSON.parse(out.trim().split('\n').at(-1)).ms);
    }
  }
  console.log(`| part | best | median | all rounds (ms) |\n| --- | ---: | ---: | --- |`);
  for (const [name, values] of runs) {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(
      `| ${name} | ${sorted[0].toFixed(0)} ms | ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms | ${values.map((v) => v.toFixed(0)).join(', ')} |`,
    );
  }
}
