/**
 * One contender of the retries benchmark, in a process of its own: 5,000 calls of 20 ms through
 * one map step at concurrency 64, one in ten failing once (a 503) and retried after a 500 ms
 * backoff, results consumed: a flaky service as integrations meet it. An item waiting out its
 * backoff holds no call; what it must not hold is the place of the calls behind it.
 *   node --conditions=sluice-source --import tsx bench/scenarios/retries.ts <contender> [items]
 * Prints one JSON line (timed-contender.ts): { contender, items, seconds, itemsPerSecond, cpuSeconds, peakRssMb }.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pMap from 'p-map';
import { flow } from 'sluice';
import { timeContender } from './timed-contender.js';

const [contender = 'sluice', itemsArg = '5000'] = process.argv.slice(2);
const items = Number(itemsArg);
const concurrency = 64;
const BACKOFF_MS = 500;

const failedOnce = new Set<number>();
class ServiceUnavailable extends Error {
  readonly statusCode = 503;
}
/** 20 ms; every tenth item fails its first attempt. */
const call = async (i: number): Promise<number> => {
  await sleep(20);
  if (i % 10 === 3 && !failedOnce.has(i)) {
    failedOnce.add(i);
    throw new ServiceUnavailable('503');
  }
  return i;
};
function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

const contenders: Record<string, () => Promise<number>> = {
  sluice: async () => {
    let seen = 0;
    await flow(range(items))
      .map(call, {
        concurrency,
        retry: { attempts: 3, baseDelayMs: BACKOFF_MS, maxDelayMs: BACKOFF_MS, jitter: false },
      })
      .forEach(() => {
        seen++;
      });
    return seen;
  },
  /** p-map with the retry in its mapper, as its users write it. */
  'p-map': async () => {
    const retried = async (i: number): Promise<number> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await call(i);
        } catch (error) {
          if (attempt >= 3) throw error;
          await sleep(BACKOFF_MS);
        }
      }
    };
    return (await pMap(range(items), retried, { concurrency })).length;
  },
  /** The floor: the same number of calls, none failing. */
  'no-failures': async () => {
    let seen = 0;
    await flow(range(Math.round(items * 1.1)))
      .map(
        async (i: number) => {
          await sleep(20);
          return i;
        },
        { concurrency },
      )
      .forEach(() => {
        seen++;
      });
    return seen === Math.round(items * 1.1) ? items : seen;
  },
};

await timeContender(contenders, contender, items);
