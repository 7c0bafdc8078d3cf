/**
 * Where a cold cpu() run's CPU goes, thread by thread: one run in this fresh process, each
 * thread's CPU read from /proc/self/task/<tid>/schedstat (nanoseconds; Linux only). The workers
 * have exited when the run ends, so theirs is the process total (getrusage) less the rest.
 *   node bench/scenarios/cold-cpu.mjs <flow|ready|serial> [tasks]
 * flow: `flow(items).map(cpu(url)).collect()` over sums of i*i for i < 2,000; ready: a
 * WorkerPool started, awaited ready and closed (the start alone); serial: the loop.
 * Prints one JSON line: wall, main, workers, runtime (V8's and libuv's threads), total, in ms.
 */
import { readdirSync, readFileSync } from 'node:fs';

function threads() {
  const cpu = new Map();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      cpu.set(
        Number(tid),
        Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6,
      );
    } catch {
      // the thread has ended
    }
  }
  return cpu;
}

const { cpu, flow, WorkerPool } = await import('sluice');
const [mode = 'flow', tasksArg = '100000'] = process.argv.slice(2);
const tasks = Number(tasksArg);
const taskUrl = new URL('./tasks/sum.task.mjs', import.meta.url);
const items = Array.from({ length: tasks }, () => 2_000);
const before = threads();
const usage = process.cpuUsage();
const started = performance.now();
if (mode === 'flow') await flow(items).map(cpu(taskUrl)).collect();
else if (mode === 'ready') {
  const pool = new WorkerPool(taskUrl);
  await pool.ready();
  await pool.close();
} else {
  const out = new Array(tasks);
  for (let i = 0; i < tasks; i++) {
    let s = 0;
    for (let j = 0; j < items[i]; j++) s += j * j;
    out[i] = s;
  }
}
const wall = performance.now() - started;
const used = process.cpuUsage(usage);
const total = (used.user + used.system) / 1000;
let main = 0;
let runtime = 0;
for (const [tid, ms] of threads()) {
  const spent = ms - (before.get(tid) ?? 0);
  if (tid === process.pid) main += spent;
  else if (before.has(tid)) runtime += spent;
}
const round = (ms) => Math.round(ms * 10) / 10;
console.log(
  JSON.stringify({
    mode,
    tasks,
    wall: round(wall),
    main: round(main),
    workers: round(total - main - runtime),
    runtime: round(runtime),
    total: round(total),
  }),
);
