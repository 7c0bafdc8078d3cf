/**
 * One contender of the tail-latency benchmark, in a process of its own: 20,000 calls through one
 * map step at concurrency 64, each a timer of 2 to 5 ms, one in fifty of 100 ms (a slow page, a
 * cold cache), results consumed in order, as an HTTP stage with a tail feeds the next step.
 * Ordered output must not hold every lane to the slowest call at the head.
 *   node --conditions=sluice-source --import tsx bench/scenarios/tail.ts <contender> [items]
 * Prints one JSON line (timed-contender.ts): { contender, items, seconds, itemsPerSecond, cpuSeconds, peakRssMb }.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pMap from 'p-map';
import { flow } from 'sluice';
import { timeContender } from './timed-contender.js';

const [contender = 'sluice-ordered', itemsArg = '20000'] = process.argv.slice(2);
const items = Number(itemsArg);
const concurrency = 64;

// The same latencies for every contender: a fixed sequence, not Math.random.
let seed = 7;
const next = (): number => {
  seed = (seed * 16_807) % 2_147_483_647;
  return seed / 2_147_483_647;
};
const latency = Array.from({ length: items }, () => (next() < 0.02 ? 100 : 2 + 3 * next()));
const call = async (i: number): Promise<number> => {
  await sleep(latency[i]);
  return i;
};
function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** Each contender consumes every result in order and returns how many it saw in order. */
const contenders: Record<string, () => Promise<number>> = {
  'sluice-ordered': async () => {
    let expected = 0;
    await flow(range(items))
      .map(call, { concurrency })
      .forEach((i) => {
        if (i === expected) expected++;
      });
    return expected;
  },
  /** The floor: the same calls, results taken as they finish. */
  'sluice-unordered': async () => {
    let seen = 0;
    await flow(range(items))
      .map(call, { concurrency, ordered: false })
      .forEach(() => {
        seen++;
      });
    return seen;
  },
  'p-map': async () => {
    let expected = 0;
    for (const i of await pMap(range(items), call, { concurrency })) if (i === expected) expected++;
    return expected;
  },
  'Readable.map': async () => {
    let expected = 0;
    for await (const i of Readable.from(range(items)).map(call, { concurrency }))
      if (i === expected) expected++;
    return expected;
  },
};

await timeContender(contenders, contender, items);
