/**
 * Times noop.ts contenders in two trees, interleaved, each run in a fresh process: this checkout
 * (B) against another worktree (A), so a change is judged by pairs on a noisy machine rather than
 * by figures taken minutes apart. Both trees run their own noop.ts: copy this one's into the other
 * tree when it lacks a contender. The other tree needs its own `npm ci`.
 *   node bench/scenarios/noop-ab.mjs <worktree> <rounds> <contender...>
 * Prints, per contender and tree, the median wall and CPU milliseconds, the median page faults (the
 * pages it wrote for the first time) and every round's wall time.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [other, roundsArg = '5', ...contenders] = process.argv.slice(2);
if (other === undefined || contenders.length === 0) {
  console.error('usage: node bench/scenarios/noop-ab.mjs <worktree> <rounds> <contender...>');
  process.exit(2);
}
const here = fileURLToPath(new URL('../..', import.meta.url));
const trees = { A: other, B: here };
const runs = {};
for (let round = 0; round < Number(roundsArg); round++) {
  for (const contender of contenders) {
    for (const [tree, dir] of Object.entries(trees)) {
      const out = execFileSync(
        process.execPath,
        ['--conditions=sluice-source', '--import', 'tsx', 'bench/scenarios/noop.ts', contender],
        { cwd: dir, encoding: 'utf8' },
      );
      const { seconds, cpuSeconds, pageFaults } = JSON.parse(out.trim().split('\n').at(-1));
      const key = `${contender} ${tree}`;
      runs[key] ??= { wall: [], cpu: [], faults: [] };
      runs[key].wall.push(seconds * 1000);
      runs[key].cpu.push(cpuSeconds * 1000);
      runs[key].faults.push(pageFaults ?? Number.NaN);
    }
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
for (const [key, { wall, cpu, faults }] of Object.entries(runs)) {
  console.log(
    `${key.padEnd(36)} wall ${median(wall).toFixed(0)} ms, cpu ${median(cpu).toFixed(0)} ms, page faults ${median(faults)} | ${wall.map((ms) => ms.toFixed(0)).join(' ')}`,
  );
}
