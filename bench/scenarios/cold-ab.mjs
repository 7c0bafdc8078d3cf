/**
 * cpu() from a cold process, this worktree's library against another's (a baseline worktree of
 * main, say), interleaved: each round runs every contender once on each side, the order of the
 * sides alternating, each run a fresh process, the library loaded from that worktree's `dist/`.
 *   node bench/scenarios/cold-ab.mjs <other worktree> <rounds> <tasks> <n> <contender...>
 * Contenders: serial (run once a round), flow (`flow(items).map(cpu(url)).collect()`, the
 * default), flow-hs (with `headStart: true`), flows-x10 (the same job as ten flows in a row, each
 * built anew). Prints the range and median of each, its ratio to the serial loop (best to best,
 * median to median), the event loop's p99 lateness, and the load average over the rounds.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const self = fileURLToPath(import.meta.url);
const here = fileURLToPath(new URL('../..', import.meta.url));

function sum(m) {
  let s = 0;
  for (let i = 0; i < m; i++) s += i * i;
  return s;
}

/** One run, in this process, with the library of `root`: prints { ms, p99 }. */
async function child(root, contender, tasks, n) {
  const { cpu, flow } = await import(pathToFileURL(`${root}/packages/sluice/dist/index.js`).href);
  const taskUrl = pathToFileURL(`${root}/bench/scenarios/tasks/sum.task.mjs`);
  const contenders = {
    serial: async (items) => {
      const out = new Array(items.length);
      for (let i = 0; i < items.length; i++) out[i] = sum(items[i]);
      return out;
    },
    flow: (items) => flow(items).map(cpu(taskUrl)).collect(),
    'flow-hs': (items) =>
      flow(items)
        .map(cpu(taskUrl, { headStart: true }))
        .collect(),
    'flows-x10': async (items) => {
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
  const items = Array.from({ length: tasks }, () => n);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const started = performance.now();
  const out = await contenders[contender](items);
  const ms = performance.now() - started;
  loopDelay.disable();
  if (out.length !== tasks || out[tasks - 1] !== sum(n)) throw new Error(`${contender}: wrong output`);
  console.log(JSON.stringify({ ms, p99: Math.max(0, loopDelay.percentile(99) / 1e6 - 10) }));
}

function driver(other, rounds, tasks, n, contenders) {
  const trees = [
    ['other', other],
    ['this', here],
  ];
  const runs = new Map();
  const loads = [];
  for (let round = 0; round < rounds; round++) {
    loads.push(loadavg()[0]);
    const order = round % 2 === 0 ? trees : [...trees].reverse();
    for (const contender of contenders) {
      for (const [side, root] of order) {
        if (contender === 'serial' && side === 'this') continue;
        const key = contender === 'serial' ? 'serial' : `${side}: ${contender}`;
        const args = [self, '--child', root, contender, String(tasks), String(n)];
        const out = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }).trim());
        runs.set(key, [...(runs.get(key) ?? []), out]);
      }
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const serial = (runs.get('serial') ?? []).map((r) => r.ms);
  console.log(
    `${tasks} x ${n}, ${rounds} rounds, load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}; other = ${other}`,
  );
  for (const [key, results] of runs) {
    const ms = results.map((r) => r.ms);
    const ratios =
      serial.length === 0
        ? ''
        : ` | vs serial: best ${(Math.min(...serial) / Math.min(...ms)).toFixed(2)}x, median ${(median(serial) / median(ms)).toFixed(2)}x`;
    console.log(
      `${key.padEnd(20)} ${Math.min(...ms).toFixed(0)}-${Math.max(...ms).toFixed(0)} ms, median ${median(ms).toFixed(0)}${ratios} | loop p99 median ${median(results.map((r) => r.p99)).toFixed(1)} ms`,
    );
  }
}

const args = process.argv.slice(2);
if (args[0] === '--child') await child(args[1], args[2], Number(args[3]), Number(args[4]));
else
  driver(args[0], Number(args[1] ?? 3), Number(args[2] ?? 100_000), Number(args[3] ?? 2_000), args.slice(4));
