/**
 * cpu() from a cold process, this worktree's library against another's (a baseline worktree of
 * main, say), interleaved: each round runs every contender once on each side, the order of the
 * sides alternating, each run a fresh process of this tree's cold.mjs on that worktree's `dist/`
 * and task module (SLUICE_ROOT), so both sides run the same contenders.
 *   node bench/scenarios/cold-ab.mjs <other worktree> <rounds> <tasks> <n> <contender...>
 *   SOURCE=objects node bench/scenarios/cold-ab.mjs ...   # cold.mjs's task source (default mjs)
 * Contenders: serial (run once a round), flow (`flow(items).map(cpu(url)).collect()`, each
 * tree's default), flow-named (the same on a stage named before the timer starts), flow-hs (with
 * `headStart: true`), flow-no-hs (with `headStart: false`), flows-x10 (the same job as ten flows
 * in a row, each built anew). Prints the range and median of each, its ratio to the serial loop
 * (best to best, median to median), the event loop's p99 lateness, and the load average over the
 * rounds.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('../..', import.meta.url));
const coldRun = fileURLToPath(new URL('./cold.mjs', import.meta.url));
const source = process.env.SOURCE ?? 'mjs';

/** This script's contender names, and cold.mjs's for them. */
const contenderOf = {
  serial: 'serial',
  flow: 'sluice-flow',
  'flow-named': 'sluice-flow-named',
  'flow-hs': 'sluice-flow-head-start',
  'flow-no-hs': 'sluice-flow-no-head-start',
  'flows-x10': 'sluice-flows-10',
};

/** One run of cold.mjs in a fresh process, on the library and task module of `root`: { ms, p99 }. */
function child(root, contender, tasks, n) {
  const name = contenderOf[contender];
  if (name === undefined)
    throw new Error(`unknown contender ${contender}; one of ${Object.keys(contenderOf)}`);
  const out = execFileSync(process.execPath, [coldRun, name, String(tasks), String(n), source], {
    encoding: 'utf8',
    env: { ...process.env, SLUICE_ROOT: root },
  });
  const { seconds, loopDelayP99Ms } = JSON.parse(out.trim());
  return { ms: seconds * 1000, p99: loopDelayP99Ms };
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
        runs.set(key, [...(runs.get(key) ?? []), child(root, contender, tasks, n)]);
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
driver(args[0], Number(args[1] ?? 3), Number(args[2] ?? 100_000), Number(args[3] ?? 2_000), args.slice(4));
