/**
 * Adaptive concurrency against a local server in its own process (adaptive-server.ts). Run with
 * `node --conditions=sluice-source --import tsx ...` to measure the sources, not a dist/ built
 * at install. OBJECTIVE=throughput (or latency) picks the adaptive limit's objective, and
 * INITIAL=<n> its initial limit (with OBJECTIVE set).
 *
 *   node --import tsx bench/scenarios/adaptive.ts latency [secondsPerLevel]
 *     Sweeps fixed concurrencies with tune() (each level warmed, then timed for secondsPerLevel),
 *     then runs 'adaptive' from a cold start for three times as long; reports adaptive throughput
 *     as a share of the best fixed level, over the whole run (convergence included) and over its
 *     last third alone (settled, after a warm-up as each fixed level has one).
 *   node --import tsx bench/scenarios/adaptive.ts hidden [seconds] [hiddenLimit]
 *     The server answers 429 above a concurrency it does not announce; reports where the limit
 *     settled and the share of requests rejected after the first 3 seconds.
 *   node --import tsx bench/scenarios/adaptive.ts capacity [items] [levels, comma-separated]
 *     A service answering in 200 ms that holds thousands in flight: a job of `items` GETs at each
 *     fixed level and at 'adaptive' from a cold start, each on fresh connections; time to finish
 *     is what counts.
 *   node --import tsx bench/scenarios/adaptive.ts retry-after [items] [hiddenLimit]
 *     A 50 ms service that answers 429 with `Retry-After: 1` above `hiddenLimit` in flight,
 *     unannounced, retries on: a job of `items` GETs at fixed `hiddenLimit` and at 'adaptive';
 *     the share of requests rejected over the whole job and over its second half (settled).
 *   Both: after one unreported job that warms the server and the client, ROUNDS (3) rounds, each
 *   running every contender once in a rotated order; each contender's run of median time is
 *   reported, the ratio is the medians', perRound each round's own, and roundsMedian their median.
 *
 * TRACE=1 in the environment prints, on stderr, a JSON line every 100 ms of each job (calls in
 * flight, answers a second, their RTT split into sending, the server's time and coming back, the
 * client's event-loop delay, connections open) and one for every window the adaptive limit
 * closes (its phase, load, mean RTT, calls a second, the limit before and after, the base).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { adaptive, flow, tune } from 'sluice';
import { Agent, request } from 'undici';
import { GradientLimit } from '../../packages/sluice/src/limit/gradient-limit.js';

const [mode = 'latency', secondsArg, hiddenArg] = process.argv.slice(2);
const DELAY_MS = 20;
const BURN_US = 300;

// OBJECTIVE=throughput (or latency) in the environment picks the adaptive limit's objective, and
// INITIAL=<n> where it starts; without OBJECTIVE, 'adaptive' runs with the defaults.
const objective = process.env.OBJECTIVE as 'throughput' | 'latency' | undefined;
const adaptiveOf = (o: 'throughput' | 'latency') =>
  adaptive({ objective: o, ...(process.env.INITIAL ? { initial: Number(process.env.INITIAL) } : {}) });

/** The `q` quantile of `sorted` (ascending), by nearest rank; 0 for none. */
function nearestRank(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/**
 * `fn` through one stage at `concurrency` for `ms`, items numbered from 0: what tune() measures of
 * a level, for a setting tune() does not take (an adaptive limit with options).
 */
async function timed(
  fn: (i: number) => Promise<void>,
  concurrency: ReturnType<typeof adaptiveOf>,
  ms: number,
): Promise<{
  concurrency: string;
  items: number;
  seconds: number;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  limit: unknown;
}> {
  const started = performance.now();
  // Each call's latency, for the same columns tune() gives a fixed level.
  const latencies: number[] = [];
  const report = await flow(
    (function* () {
      for (let i = 0; performance.now() - started < ms; i++) yield i;
    })(),
  )
    .map(
      async (i: number) => {
        const callStarted = performance.now();
        await fn(i);
        latencies.push(performance.now() - callStarted);
      },
      { concurrency },
    )
    .run();
  const seconds = (performance.now() - started) / 1000;
  const stage = report.stages[0];
  const items = stage?.emitted ?? 0;
  latencies.sort((a, b) => a - b);
  return {
    concurrency: 'adaptive',
    items,
    seconds,
    throughput: items / seconds,
    p50Ms: nearestRank(latencies, 0.5),
    p99Ms: nearestRank(latencies, 0.99),
    limit: stage?.limit,
  };
}

async function startServer(...args: number[]): Promise<{ origin: string; stop: () => void }> {
  const server = fork(fileURLToPath(new URL('./adaptive-server.ts', import.meta.url)), args.map(String), {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    execArgv: ['--import', 'tsx'],
  });
  const [chunk] = (await once(server.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return { origin: `http://127.0.0.1:${Number(chunk.toString().trim())}`, stop: () => server.disconnect() };
}

let dispatcher = new Agent({ connections: null, keepAliveTimeout: 60_000 });

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly headers: Record<string, string | string[] | undefined>,
  ) {
    super(`HTTP ${statusCode}`);
  }
}

/**
 * TRACE=1: every 100 ms of a job, on stderr, one JSON line of what the client saw (calls in flight,
 * answers a second, their RTT, where that RTT went: sending, at the server, coming back; the
 * client's event-loop delay; the connections open) and, for 'adaptive', every window the limit
 * closed. The limit is reached through the sources (run with --conditions=sluice-source).
 */
const tracing = process.env.TRACE === '1';
const wall = (): number => performance.timeOrigin + performance.now();
interface Answer {
  rtt: number;
  out: number;
  server: number;
  back: number;
}
let answers: Answer[] = [];
let inFlightNow = 0;
let traced: GradientLimit | undefined;
if (tracing) {
  // The limiter makes its limits inside the stage: each one is reached at its first answer.
  const success = GradientLimit.prototype.success;
  GradientLimit.prototype.success = function (this: GradientLimit, now, rtt, inflight, held) {
    if (this.onWindow === undefined) {
      traced = this;
      this.onWindow = (w) => {
        const round = Object.fromEntries(
          Object.entries(w).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v) : v]),
        );
        process.stderr.write(`${JSON.stringify({ window: true, ...round, inFlightNow })}\n`);
      };
    }
    success.call(this, now, rtt, inflight, held);
  };
}

async function get(origin: string, i: number): Promise<void> {
  const sent = tracing ? wall() : 0;
  inFlightNow++;
  try {
    const { statusCode, headers, body } = await request(`${origin}/${i}`, { dispatcher });
    await body.dump();
    if (tracing && statusCode === 200) {
      const back = wall();
      const arrived = Number(headers['x-arrived']);
      const answered = Number(headers['x-answered']);
      answers.push({
        rtt: back - sent,
        out: arrived - sent,
        server: answered - arrived,
        back: back - answered,
      });
    }
    if (statusCode !== 200) throw new HttpError(statusCode, headers);
  } finally {
    inFlightNow--;
  }
}

/** Starts the 100 ms trace lines of one job; returns what stops them. */
function startTrace(label: string): () => void {
  if (!tracing) return () => {};
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const begun = performance.now();
  let last = begun;
  answers = [];
  traced = undefined;
  const median = (xs: number[]): number => {
    xs.sort((a, b) => a - b);
    return Math.round(xs[Math.floor(xs.length / 2)] ?? 0);
  };
  const timer = setInterval(() => {
    const now = performance.now();
    const got = answers;
    answers = [];
    const stats = Object.values(
      dispatcher.stats as Record<string, { connected: number; running: number; pending: number }>,
    )[0];
    process.stderr.write(
      `${JSON.stringify({
        job: label,
        t: Math.round(now - begun),
        // A 100 ms timer that fired late by this much: the client's loop was busy that long.
        tickMs: Math.round(now - last),
        limit: traced?.limit,
        inflight: inFlightNow,
        perSecond: Math.round((got.length * 1000) / (now - last)),
        rttMin: Math.round(Math.min(...got.map((a) => a.rtt))),
        rttP50: median(got.map((a) => a.rtt)),
        outP50: median(got.map((a) => a.out)),
        serverP50: median(got.map((a) => a.server)),
        backP50: median(got.map((a) => a.back)),
        loopP50: Math.round(loop.percentile(50) / 1e6),
        loopMax: Math.round(loop.max / 1e6),
        connected: stats?.connected,
        pending: stats?.pending,
      })}\n`,
    );
    loop.reset();
    last = now;
  }, 100);
  return () => {
    clearInterval(timer);
    loop.disable();
  };
}

interface JobResult {
  contender: string;
  items: number;
  seconds: number;
  itemsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  rejected: number;
  rejectedSecondHalf: number;
  requestsSecondHalf: number;
  limit?: unknown;
}

/**
 * One job of `items` GETs through a flow stage at `concurrency`, on fresh connections (a contender
 * run after another must not inherit its sockets), timed from first call to last answer.
 */
async function job(
  origin: string,
  items: number,
  concurrency: number | 'adaptive',
  retries: boolean,
): Promise<JobResult> {
  const setting = concurrency === 'adaptive' && objective !== undefined ? adaptiveOf(objective) : concurrency;
  await dispatcher.close();
  dispatcher = new Agent({ connections: null, keepAliveTimeout: 60_000 });
  const latencies: number[] = [];
  const stopTrace = startTrace(String(concurrency));
  let requests = 0;
  let rejected = 0;
  let requestsSecondHalf = 0;
  let rejectedSecondHalf = 0;
  const started = performance.now();
  const report = await flow(
    (function* () {
      for (let i = 0; i < items; i++) yield i;
    })(),
  )
    .map(
      async (i: number) => {
        const secondHalf = i >= items / 2;
        requests++;
        if (secondHalf) requestsSecondHalf++;
        const t = performance.now();
        try {
          await get(origin, i);
          latencies.push(performance.now() - t);
        } catch (error) {
          if ((error as HttpError).statusCode === 429) {
            rejected++;
            if (secondHalf) rejectedSecondHalf++;
          }
          throw error;
        }
      },
      {
        concurrency: setting,
        ...(retries ? { retry: { attempts: 1_000, baseDelayMs: 10, maxDelayMs: 200 } } : {}),
      },
    )
    .run();
  const seconds = (performance.now() - started) / 1000;
  stopTrace();
  const stage = report.stages[0];
  if (stage?.emitted !== items) throw new Error(`${concurrency}: ${stage?.emitted} of ${items} completed`);
  latencies.sort((a, b) => a - b);
  return {
    contender: String(concurrency),
    items,
    seconds,
    itemsPerSecond: items / seconds,
    p50Ms: nearestRank(latencies, 0.5),
    p99Ms: nearestRank(latencies, 0.99),
    requests,
    rejected,
    requestsSecondHalf,
    rejectedSecondHalf,
    ...(concurrency === 'adaptive' ? { limit: stage?.limit } : {}),
  };
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
  const [adaptive] =
    objective === undefined
      ? (await tune(counted, { items: (i) => i, levels: ['adaptive'], durationMs: seconds * 3000 })).levels
      : [await timed(counted, adaptiveOf(objective), seconds * 3000)];
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
} else if (mode === 'capacity' || mode === 'retry-after') {
  const capacity = mode === 'capacity';
  const items = Number(secondsArg ?? 20_000);
  const hidden = Number(hiddenArg ?? 300);
  const levels = capacity ? (hiddenArg ?? '800,1600,3200,6400').split(',').map(Number) : [hidden];
  const rounds = Number(process.env.ROUNDS ?? 3);
  const { origin, stop } = capacity ? await startServer(200, 0) : await startServer(50, 0, hidden, 1);
  // The first job in a fresh server and client ran a third longer than the same job later (JIT,
  // the server's first sockets): an unreported job warms both, and each round runs the contenders
  // in a rotated order, so none is always first or last.
  await job(origin, Math.min(items, 5_000), levels.at(-1) ?? hidden, !capacity);
  const contenders: (number | 'adaptive')[] = [...levels, 'adaptive'];
  const runs = new Map<string, JobResult[]>(contenders.map((c) => [String(c), []]));
  const perRound: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = contenders.map(
      (_, i) => contenders[(i + round) % contenders.length] as number | 'adaptive',
    );
    const got = new Map<string, JobResult>();
    for (const contender of order) got.set(String(contender), await job(origin, items, contender, !capacity));
    for (const [name, result] of got) runs.get(name)?.push(result);
    const bestFixed = Math.max(...levels.map((l) => got.get(String(l))?.itemsPerSecond ?? 0));
    perRound.push((got.get('adaptive')?.itemsPerSecond ?? 0) / bestFixed);
  }
  stop();
  /** The run of median time, with the range of every run's calls a second. */
  const medianRun = (results: JobResult[]): JobResult & { slowest: number; fastest: number } => {
    const sorted = [...results].sort((a, b) => a.seconds - b.seconds);
    const mid = sorted[Math.floor((sorted.length - 1) / 2)] as JobResult;
    return {
      ...mid,
      slowest: sorted.at(-1)?.itemsPerSecond ?? 0,
      fastest: sorted[0]?.itemsPerSecond ?? 0,
    };
  };
  const medians = contenders.map((c) => medianRun(runs.get(String(c)) ?? []));
  const adaptive = medians.at(-1) as JobResult;
  const best = medians.slice(0, -1).reduce((a, b) => (b.itemsPerSecond > a.itemsPerSecond ? b : a));
  console.log(
    JSON.stringify({
      ...adaptive,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      rounds,
      best: best.contender,
      ratio: adaptive.itemsPerSecond / best.itemsPerSecond,
      perRound,
      // Each round's ratio sets 'adaptive' beside the fixed runs made next to it in time; their
      // median moves less with the machine than the ratio of each contender's median run, which
      // follows the fixed level's own spread (7.1 k to 9.7 k requests/s in one morning).
      roundsMedian: [...perRound].sort((a, b) => a - b)[Math.floor((perRound.length - 1) / 2)],
      levels: medians,
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
