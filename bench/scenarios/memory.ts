/**
 * Peak RSS of a three-stage flow over N generated items (map, filter, batch), so that running it
 * over 1,000,000 and over 10,000,000 items shows whether memory stays flat.
 *   node --import tsx bench/scenarios/memory.ts [items]
 */
import { flow } from 'sluice';

const items = Number(process.argv[3] ?? 1_000_000); // argv[2] names the contender, as in every scenario

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

const started = performance.now();
let batches = 0;
const report = await flow(range(items))
  .map(async (x) => ({ id: x, value: x * 2 }), { concurrency: 32 })
  .filter((record) => record.id % 7 !== 0)
  .batch({ size: 500 })
  .forEach(() => {
    batches++;
  })
  .run();
const seconds = (performance.now() - started) / 1000;
const map = report.stages[0];
if (map?.emitted !== items) throw new Error(`map emitted ${map?.emitted} of ${items}`);
console.log(
  JSON.stringify({
    contender: `three-stage flow, ${items.toLocaleString('en')} items`,
    items,
    seconds,
    itemsPerSecond: items / seconds,
    batches,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
