/**
 * One contender of the short-flow benchmark: what starting a pipeline costs. R runs, one after
 * another, of a ten-item async map at concurrency 4: the shape of a flow started per request or
 * per message, where setting up is most of the work.
 *   node --import tsx bench/scenarios/short.ts <contender> [runs]
 * Prints one JSON line: { contender, items (runs), seconds, itemsPerSecond (runs/s), peakRssMb }.
 */
import { Readable } from 'node:stream';
import pMap from 'p-map';
import { flow, map } from 'sluice';

const [contender = 'sluice-flow', runsArg = '20000'] = process.argv.slice(2);
const runs = Number(runsArg);
const ten = Array.from({ length: 10 }, (_, i) => i);
const double = async (x: number): Promise<number> => x * 2;

const contenders: Record<string, () => Promise<number[]>> = {
  'sluice-flow': () => flow(ten).map(double, { concurrency: 4 }).collect(),
  'sluice-map': () => map(ten, double, { concurrency: 4 }),
  'p-map': () => pMap(ten, double, { concurrency: 4 }),
  'Readable.map': () => Readable.from(ten).map(double, { concurrency: 4 }).toArray(),
};

const runOnce = contenders[contender];
if (runOnce === undefined)
  throw new Error(`unknown contender ${contender}; one of ${Object.keys(contenders).join(', ')}`);
for (let i = 0; i < 200; i++) await runOnce();
const started = performance.now();
let sum = 0;
for (let i = 0; i < runs; i++) for (const value of await runOnce()) sum += value;
const seconds = (performance.now() - started) / 1000;
if (sum !== runs * 90) throw new Error(`${contender} returned wrong results: ${sum}`);
console.log(
  JSON.stringify({
    contender,
    items: runs,
    seconds,
    itemsPerSecond: runs / seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
