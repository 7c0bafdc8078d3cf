/**
 * Adaptive concurrency against a local server in its own process (adaptive-server.ts).
 *
 *   node --import tsx bench/scenarios/adaptive.ts latency [secondsPerLevel]
 *     Sweeps fixed concurrencies with tune() (each level warmed, then timed for secondsPerLevel),
 *     then runs 'adaptive' from a cold start for three times as long; reports adaptive throughput
 *     as a share of the best fixed level, over the whole run (convergence included) and over its
 *     last third alone (settled, after a warm-up as each fixed level has one).
 *   node --import tsx bench/scenarios/adaptive.ts hidden [seconds] [hiddenLimit]
 *     The server answers 429 above a concurrency it does not announce; reports where the limit
 *     settled and the share of requests rejected after the first 3 seconds.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { flow, tune } from 'sluice';
import { Agent, request } from 'undici';

const [mode = 'latency', secondsArg, hiddenArg] = process.argv.slice(2);
const DELAY_MS = 20;
const BURN_US = 300;

async function startServer(...args: number[]): Promise<{ origin: string; stop: () => void }> {
  const server = fork(fileURLToPath(new URL('./adaptive-server.ts', import.meta.url)), args.map(String), {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    execArgv: ['--import', 'tsx'],
  });
  const [chunk] = (await once(server.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return { origin: `http://127.0.0.1:${Number(chunk.toString().trim())}`, stop: () => server.disconnect() };
}

const dispatcher = new Agent({ connections: null, keepAliveTimeout: 60_000 });

class HttpError extends Error {
  constructor(readonly statusCode: number) {
    super(`HTTP ${statusCode}`);
  }
}

async function get(origin: string, i: number): Promise<void> {
  const { statusCode, body } = await request(`${origin}/${i}`, { dispatcher });
  await body.dump();
  if (statusCode !== 200) throw new HttpError(statusCode);
}

if (mode === 'latency') {
  const seconds = Number(secondsArg ?? 4);
  const { origin, stop } = await startServer(DELAY_MS, BURN_US);
  const get_ = (i: number): Promise<void> => get(origin, i);
  const result = await tune(get_, {
    items: (i) => i,
    levels: [25, 50, 100, 200, 400, 800, 1600],
    durationMs: seconds * 1000,
  });
  // From a cold start, its convergence included, for three times as long as a fixed level. Each
  // success's time is kept too, to read the last stretch as long as a fixed level's timed one:
  // the adaptive limit after the run's own warm-up, as each fixed level is timed after its own.
  const finishedAt: number[] = [];
  const counted = async (i: number): Promise<void> => {
    await get_(i);
    finishedAt.push(performance.now());
  };
  const adaptiveStarted = performance.now();
  const [adaptive] = (
    await tune(counted, { items: (i) => i, levels: ['adaptive'], durationMs: seconds * 3000 })
  ).levels;
  const lastFrom = adaptiveStarted + seconds * 2000;
  const lastTo = adaptiveStarted + seconds * 3000;
  const settled = finishedAt.filter((t) => t >= lastFrom && t < lastTo).length / seconds;
  stop();
  const best = Math.max(...result.levels.map((l) => l.throughput));
  console.log(
    JSON.stringify({
      contender: 'adaptive',
      items: adaptive?.items,
      seconds: adaptive?.seconds,
      itemsPerSecond: adaptive?.throughput,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      ratio: (adaptive?.throughput ?? 0) / best,
      settledPerSecond: settled,
      settledRatio: settled / best,
      knee: result.knee,
      best: result.best,
      levels: [...result.levels, adaptive],
    }),
  );
} else if (mode === 'hidden') {
  const seconds = Number(secondsArg ?? 12);
  const hidden = Number(hiddenArg ?? 150);
  const warmupMs = 3_000;
  const { origin, stop } = await startServer(DELAY_MS, 0, hidden);
  const started = performance.now();
  let late = 0;
  let lateRejected = 0;
  const report = await flow(
    (function* () {
      for (let i = 0; performance.now() - started < seconds * 1000; i++) yield i;
    })(),
  )
    .map(
      async (i: number) => {
        const late_ = performance.now() - started >= warmupMs;
        if (late_) late++;
        try {
          await get(origin, i);
        } catch (error) {
          if (late_ && (error as HttpError).statusCode === 429) lateRejected++;
          throw error;
        }
      },
      { concurrency: 'adaptive', retry: { attempts: 1_000, baseDelayMs: 10, maxDelayMs: 200 } },
    )
    .run();
  stop();
  const stage = report.stages[0];
  const elapsed = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({
      contender: 'adaptive',
      items: stage?.emitted,
      seconds: elapsed,
      itemsPerSecond: (stage?.emitted ?? 0) / elapsed,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      hidden,
      completed: stage?.emitted === stage?.entered && stage?.failed === 0,
      requestsAfterWarmup: late,
      rejectedAfterWarmup: lateRejected,
      rejectedShare: lateRejected / late,
      retries: stage?.retries,
      limit: stage?.limit,
    }),
  );
}
await dispatcher.close();
