/**
 * What always-on metrics cost: the no-op flow (1,000,000 async no-op items, concurrency 64) with
 * per-call sampling on and off, alternating in one process, `rounds` times each.
 *   node --import tsx bench/scenarios/metrics-cost.ts [rounds] [items]
 * One process, interleaved: on this shared machine throughput swings by 2x from one process to
 * the next (and between two modes within one), which swamps a few percent when each variant runs
 * in processes of its own. Reports each variant's median and best, and the cost as 1 - on/off.
 */
import { flow } from 'sluice';
import { sampling } from '../../packages/sluice/src/observe/stage-metrics.js';

const rounds = Number(process.argv[2] ?? 16);
const items = Number(process.argv[3] ?? 1_000_000);
const noop = async (x: number): Promise<number> => x;

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

const runs: Record<'on' | 'off', number[]> = { on: [], off: [] };
for (let round = 0; round < rounds; round++) {
  // Alternate which goes first, so neither always follows a warmer or a colder heap.
  for (const variant of round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
    sampling.enabled = variant === 'on';
    const started = performance.now();
    await flow(range(items)).map(noop, { concurrency: 64 }).run();
    runs[variant].push(items / ((performance.now() - started) / 1000));
  }
}
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};
const on = { median: median(runs.on), best: Math.max(...runs.on) };
const off = { median: median(runs.off), best: Math.max(...runs.off) };
console.log(
  JSON.stringify({
    contender: 'metrics-cost',
    items,
    rounds,
    itemsPerSecond: on.median,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    on,
    off,
    costMedian: 1 - on.median / off.median,
    costBest: 1 - on.best / off.best,
  }),
);
