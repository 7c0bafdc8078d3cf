/**
 * What a cold process pays before a flow's lane runs compiled, which instructions.mjs (the cost of
 * an item once compiled) leaves out. Per terminal, in fresh processes (warm-up-child.mjs):
 *
 * - cold and warm: the first of four 1,000,000-item runs in a process, and the quickest of its
 *   third and fourth, medians over the processes; their ratio is what warming up cost the first;
 * - under `--trace-opt --trace-deopt`, one run a process: how often the lane (`#lane`) was
 *   compiled, how often a compile was thrown away ("dependency change") or its code deoptimized,
 *   and how many items had been called, and how many ms had passed, at the event-loop turn before
 *   its last optimized code arrived (a turn comes about every 10 ms, so to that grain).
 *
 *   node bench/scenarios/warm-up.mjs [processes] [terminal...]   # bare run reduce collect forEach forAwait
 *   SLUICE_ROOT=<worktree> node bench/scenarios/warm-up.mjs      # that tree's compiled library
 * Timings move with the machine's hour; the compile counts much less.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./warm-up-child.mjs', import.meta.url));
const [processesArg = '6', ...wanted] = process.argv.slice(2);
const processes = Number(processesArg);
const terminals = wanted.length > 0 ? wanted : ['bare', 'run', 'reduce', 'collect', 'forEach', 'forAwait'];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const node = (args, env = {}) =>
  execFileSync(process.execPath, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 28,
  });

/** One traced cold run: the lane's compiles, and where the run was when the last one arrived. */
function traced(terminal) {
  const lines = node(['--trace-opt', '--trace-deopt', child, terminal, '1000000', '1'], {
    MARKS: '1',
  }).split('\n');
  const lane = / <JSFunction #lane /;
  let called = 0;
  let ms = 0;
  let arrived = { called: 0, ms: 0 };
  const counts = { compiles: 0, thrownAway: 0, deoptimized: 0 };
  for (const line of lines) {
    const mark = /^MARK (\d+) ([\d.]+)/.exec(line);
    if (mark !== null) {
      called = Number(mark[1]);
      ms = Number(mark[2]);
    } else if (!lane.test(line)) continue;
    else if (line.startsWith('[compiling method')) counts.compiles++;
    else if (line.startsWith('[aborted optimizing')) counts.thrownAway++;
    else if (line.startsWith('[bailout')) counts.deoptimized++;
    else if (line.startsWith('[completed optimizing')) arrived = { called, ms };
  }
  return { ...counts, arrived };
}

const rows = [];
for (const terminal of terminals) {
  const timed = [];
  const traces = [];
  for (let p = 0; p < processes; p++) {
    const out = node([child, terminal, '1000000', '4']).trim().split('\n').at(-1);
    timed.push(JSON.parse(out).ms);
    if (terminal !== 'bare') traces.push(traced(terminal));
    process.stderr.write('.');
  }
  const cold = median(timed.map((ms) => ms[0]));
  const warm = median(timed.map((ms) => Math.min(ms[2], ms[3])));
  const per = (key) =>
    traces.length === 0 ? '' : (traces.reduce((sum, t) => sum + t[key], 0) / traces.length).toFixed(1);
  const arrived =
    traces.length === 0
      ? ''
      : `${(median(traces.map((t) => t.arrived.called)) / 1000).toFixed(0)}k items, ${median(traces.map((t) => t.arrived.ms)).toFixed(0)} ms`;
  rows.push(
    `| ${terminal} | ${cold.toFixed(0)} | ${warm.toFixed(0)} | ${(cold / warm).toFixed(2)} | ${per('compiles')} | ${per('thrownAway')} | ${per('deoptimized')} | ${arrived} |`,
  );
}
process.stderr.write('\n');
console.log(
  [
    `${processes} processes a terminal${process.env.SLUICE_ROOT ? `, ${process.env.SLUICE_ROOT}` : ''}; medians`,
    '',
    '| terminal | cold ms | warm ms | cold / warm | lane compiles a run | thrown away | deoptimized | last compile arrived after |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
  ].join('\n'),
);
