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

/** A deadline as users hand-write one around a p-map mapper: a timer per call, cleared when it settles. */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

const contenders: Record<string, () => Promise<number[]>> = {
  'sluice-flow': () => flow(ten).map(double, { concurrency: 4 }).collect(),
  'sluice-map': () => map(ten, double, { concurrency: 4 }),
  'p-map': () => pMap(ten, double, { concurrency: 4 }),
  /** The same calls under a 5 s deadline each, as a flow calling a service sets one. */
  'sluice-flow-timeout': () => flow(ten).map(double, { concurrency: 4, timeout: 5000 }).collect(),
  'p-map-timeout': () => pMap(ten, (x) => withinMs(double(x), 5000), { concurrency: 4 }),
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
