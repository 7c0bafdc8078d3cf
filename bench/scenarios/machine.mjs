/**
 * What this machine allows, to read the other groups' ratios against: no library, no peer.
 *   node bench/scenarios/machine.mjs            # the figures below, as one JSON line
 *   node bench/scenarios/machine.mjs loop <calls>  # (a child) <calls> large sums, prints its ms
 * - parallel: the same 400 large sums (n = 5,000,000, the cpu-large group's) run by one process
 *   alone, then split between one process per core started at once: the best a pool of that many
 *   workers could do, with nothing to start, hand over or collect (`parallelCeiling`).
 * - memory: filling 64 MB that was never written, then filling it again (`firstTouchMsPerMb`,
 *   `againMsPerMb`): on a VM that backs its guest's memory lazily, first writes cost far more, and
 *   every new heap page a run takes (a worker's heap, a growing results array) pays them.
 * - array: pushing 1,000,000 numbers into a growing array and adding them up (`pushMs`): what
 *   `collect()` pays on top of the run for a million results; and the slowest single push of
 *   them (`worstPushMs`), when the array grows: an event-loop stall no library can split.
 * - worker: a bare worker thread, from `new Worker()` to its first message (`workerReadyMs`), and
 *   the process's CPU meanwhile (`workerCpuMs`): what any pool pays for each thread it starts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const [mode, callsArg] = process.argv.slice(2);
const N = 5_000_000;

function sum(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += i * i;
  return s;
}

if (mode === 'loop') {
  const started = performance.now();
  let total = 0;
  for (let k = 0; k < Number(callsArg); k++) total += sum(N);
  console.log(JSON.stringify({ ms: performance.now() - started, ok: total > 0 }));
} else {
  const self = fileURLToPath(import.meta.url);
  const CALLS = 400;
  const cores = availableParallelism();
  const loopMs = (out) => JSON.parse(out.trim()).ms;
  const aloneMs = loopMs(execFileSync(process.execPath, [self, 'loop', String(CALLS)], { encoding: 'utf8' }));
  const shares = await Promise.all(
    Array.from({ length: cores }, (_, i) => {
      const calls = Math.floor(CALLS / cores) + (i < CALLS % cores ? 1 : 0);
      const child = spawn(process.execPath, [self, 'loop', String(calls)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
      });
      return new Promise((resolve, reject) =>
        child.on('exit', (code) =>
          code === 0 ? resolve(loopMs(out)) : reject(new Error(`loop exited ${code}`)),
        ),
      );
    }),
  );
  const splitMs = Math.max(...shares);

  const MB = 64;
  const buffer = Buffer.alloc(MB * 1024 * 1024);
  let started = performance.now();
  buffer.fill(1);
  const firstTouchMs = performance.now() - started;
  started = performance.now();
  buffer.fill(2);
  const againMs = performance.now() - started;

  started = performance.now();
  const all = [];
  let worstPushMs = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const before = performance.now();
    all.push(i + 0.5);
    const took = performance.now() - before;
    if (took > worstPushMs) worstPushMs = took;
  }
  let total = 0;
  for (const x of all) total += x;
  const pushMs = performance.now() - started;
  if (total !== 500_000_000_000) throw new Error('wrong sum');

  const cpuBefore = process.cpuUsage();
  started = performance.now();
  const worker = new Worker("require('node:worker_threads').parentPort.postMessage('ready')", { eval: true });
  await new Promise((resolve) => worker.once('message', resolve));
  const workerReadyMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  await worker.terminate();

  console.log(
    JSON.stringify({
      cores,
      aloneMs,
      splitMs,
      parallelCeiling: aloneMs / splitMs,
      firstTouchMsPerMb: firstTouchMs / MB,
      againMsPerMb: againMs / MB,
      pushMs,
      worstPushMs,
      workerReadyMs,
      workerCpuMs: (cpu.user + cpu.system) / 1000,
    }),
  );
}
