/**
 * 'adaptive' against a local service, this worktree's sources against another's (a baseline
 * worktree of main, say), interleaved: each pair runs adaptive.ts once in each tree, in a fresh
 * process of that tree's own adaptive.ts and sources, the order of the trees alternating. The
 * other tree needs its own node_modules (a copy of this one's will do: its `sluice` link is
 * relative).
 *   node bench/scenarios/adaptive-ab.mjs <other worktree> <pairs> capacity 20000 3200
 *   node bench/scenarios/adaptive-ab.mjs <other worktree> <pairs> retry-after 20000 300
 * OBJECTIVE, INITIAL, ROUNDS pass through to adaptive.ts. Prints each run's ratio to the best
 * fixed level (of its median runs, and the median of its rounds' own ratios) and the requests
 * rejected, then the medians over the pairs of each side and how many pairs this tree was ahead.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('../..', import.meta.url));
const [other, pairsArg = '5', ...jobArgs] = process.argv.slice(2);
if (other === undefined || jobArgs.length === 0) {
  console.error(
    'usage: node bench/scenarios/adaptive-ab.mjs <other worktree> <pairs> <mode> [items] [levels]',
  );
  process.exit(2);
}

/** One job of adaptive.ts in `root`, run from its own sources: its last JSON line. */
function run(root) {
  const out = execFileSync(
    process.execPath,
    ['--conditions=sluice-source', '--import', 'tsx', 'bench/scenarios/adaptive.ts', ...jobArgs],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const last = JSON.parse(out.trim().split('\n').at(-1));
  return { ratio: last.ratio, rounds: last.roundsMedian, rejected: last.rejected ?? 0 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const sides = { other: [], this: [] };
let ahead = 0;
for (let pair = 0; pair < Number(pairsArg); pair++) {
  const order = pair % 2 === 0 ? ['other', 'this'] : ['this', 'other'];
  const results = {};
  for (const side of order) {
    results[side] = run(side === 'this' ? here : other);
    sides[side].push(results[side]);
    const r = results[side];
    console.log(`${side} ${pct(r.ratio)} (rounds' median ${pct(r.rounds)}), ${r.rejected} rejected`);
  }
  if (results.this.rounds > results.other.rounds) ahead++;
}
for (const side of ['other', 'this']) {
  const runs = sides[side];
  console.log(
    `${side}: median ${pct(median(runs.map((r) => r.ratio)))}, rounds' median ${pct(median(runs.map((r) => r.rounds)))}, ${median(runs.map((r) => r.rejected))} rejected`,
  );
}
console.log(`this tree ahead in ${ahead} of ${pairsArg} pairs (by the rounds' median)`);
