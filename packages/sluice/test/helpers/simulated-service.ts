import { sleep } from '../../src/core/clock.js';
import { AdaptiveLimiter } from '../../src/limit/adaptive-limiter.js';
import { type AdaptiveOptions, normalizeAdaptive } from '../../src/limit/adaptive-options.js';
import { DescriptorBudget } from '../../src/limit/open-files.js';
import { FakeClock } from '../../src/testing.js';

/** How a simulated service answers a call started at `now`: after `ms`, with success or an error. */
export type Behaviour = (inflight: number, key: string, now: number) => { ms: number; error?: unknown };

/**
 * Callers that keep `demand` calls asking for turns, against a service simulated on a FakeClock:
 * every number here is fake time, so the tests never depend on the machine's speed.
 */
export class SimulatedService {
  readonly clock = new FakeClock();
  readonly limiter: AdaptiveLimiter;
  /** Calls in flight at the service, per key, and the most seen at once. */
  readonly inflight = new Map<string, number>();
  peak = 0;
  totalInflight = 0;
  ok = 0;
  rejected = 0;
  /** Calls started, with the clock's time, to look at a later stretch only. */
  readonly starts: number[] = [];
  behaviour: Behaviour;
  #stopped = false;
  readonly #loops: Promise<void>[] = [];

  constructor(options: AdaptiveOptions<string>, behaviour: Behaviour, budget?: DescriptorBudget) {
    this.behaviour = behaviour;
    const settings = normalizeAdaptive('test', { ...options, adaptive: true } as never);
    this.limiter = new AdaptiveLimiter(settings, this.clock, budget);
  }

  /** Starts `demand` callers, each calling again as soon as its call ends; `key` picks each call's key. */
  start(demand: number, key: (n: number) => string = () => 'k'): this {
    for (let i = 0; i < demand; i++) this.#loops.push(this.#caller(i, key));
    return this;
  }

  async #caller(i: number, keyOf: (n: number) => string): Promise<void> {
    for (let n = 0; !this.#stopped; n++) {
      const key = keyOf(i + n);
      const slot = this.limiter.slot(key);
      if (!this.limiter.tryAcquire(slot)) await this.limiter.acquire(slot);
      if (this.#stopped) return;
      const started = this.clock.now();
      this.starts.push(started);
      const inflight = (this.inflight.get(key) ?? 0) + 1;
      this.inflight.set(key, inflight);
      this.totalInflight++;
      this.peak = Math.max(this.peak, this.totalInflight);
      const { ms, error } = this.behaviour(inflight, key, started);
      await sleep(this.clock, ms);
      this.inflight.set(key, (this.inflight.get(key) ?? 1) - 1);
      this.totalInflight--;
      if (error === undefined) this.ok++;
      else this.rejected++;
      this.limiter.release(slot, started, error !== undefined, error);
    }
  }

  /** Moves fake time on by `ms`, in steps of `step`. */
  async run(ms: number, step = 5): Promise<void> {
    for (let t = 0; t < ms; t += step) await this.clock.advance(step);
  }

  limit(key = 'k'): number {
    return this.limiter.limitOf(key);
  }

  stop(): void {
    this.#stopped = true;
  }
}

/** An overload rejection as an HTTP client would throw it. */
export function tooMany(retryAfter?: string): Error {
  return Object.assign(new Error('HTTP 429'), {
    statusCode: 429,
    ...(retryAfter === undefined ? {} : { headers: { 'retry-after': retryAfter } }),
  });
}

/** A seeded uniform random number in [0, 1): the same sequence on every run. */
export function seeded(seed = 1): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/**
 * The service shapes the 'throughput' objective is held to, shared by packages/sluice/test/limit
 * and bench/scenarios/adaptive-sim.ts so the bench reports what the tests assert. Each call makes
 * a fresh shape with its own seeded sequence.
 */
export const serviceShapes = {
  /**
   * A service answering in 200 ms that holds thousands at once, on cores it shares: latency grows
   * with the square of what is in flight, so 1,600 to 3,200 in flight still buys 30% more calls a
   * second, and 6,400 buys less than 3,200.
   */
  highCapacity: (): Behaviour => {
    const random = seeded(7);
    return (inflight) => ({ ms: 195 + 10 * random() + 40 * (inflight / 1_600) ** 2 });
  },
  /**
   * The same service with its client on the same two cores, as bench/scenarios/adaptive.ts runs
   * it: up to `cliff` in flight as above, past it every call in flight costs both processes CPU
   * (sockets, timers, garbage): latency doubles by 3,500 and throughput falls off a cliff (on the
   * machine, 3,400 in flight answered half the calls a second 2,700 did).
   */
  crowdedCores: (cliff = 3_000): Behaviour => {
    const random = seeded(23);
    return (inflight) => ({
      ms:
        (195 + 10 * random() + 40 * (inflight / 1_600) ** 2) *
        (1 + Math.min(1, Math.max(0, (inflight - cliff) / 500))),
    });
  },
  /**
   * The high-capacity service reached as bench/scenarios/adaptive.ts reaches it: undici opens a
   * connection for every call above the most ever in flight and keeps it open. Opening one costs
   * `openMs` of the CPU the client and server share, one at a time, and a call started while
   * connections are being opened waits for them first (on the machine, 2,700 calls started in one
   * turn delayed the client's 100 ms tick by 840 ms). A first visit to a load reads slow for that
   * alone; a second visit, its connections open, does not.
   */
  connecting: (openMs = 0.4): Behaviour => {
    const random = seeded(31);
    let connections = 0;
    let busyUntil = 0;
    return (inflight, _key, now) => {
      if (inflight > connections) {
        busyUntil = Math.max(now, busyUntil) + (inflight - connections) * openMs;
        connections = inflight;
      }
      const wait = Math.max(0, busyUntil - now);
      return { ms: wait + 195 + 10 * random() + 40 * (inflight / 1_600) ** 2 };
    };
  },
  /** Calls cost the service CPU: past about 60 in flight it serves 2,500 a second and no more. */
  cpuBound: (): Behaviour => {
    const random = seeded(11);
    return (inflight) => ({ ms: 18 + 4 * random() + inflight / 2.5 });
  },
  /** Throughput peaks at 50 in flight and falls past it (latency grows as the load to the 1.4). */
  peaked: (): Behaviour => {
    const random = seeded(13);
    return (inflight) => ({ ms: (18 + 4 * random()) * Math.max(1, (inflight / 50) ** 1.4) });
  },
  /** 429 at once, with `Retry-After: 1`, above 300 in flight; else 45 to 55 ms. */
  rejecting: (): Behaviour => {
    const random = seeded(17);
    return (inflight) => (inflight > 300 ? { ms: 1, error: tooMany('1') } : { ms: 45 + 10 * random() });
  },
  /** 429 above 300 in flight, but only after 45 to 55 ms, as long as an answer takes. */
  slowRefusal: (): Behaviour => {
    const random = seeded(19);
    return (inflight) => ({ ms: 45 + 10 * random(), ...(inflight > 300 ? { error: tooMany() } : {}) });
  },
};

/**
 * Callers: enough for any level tried against a shape, so the limit, not the callers, sets what is
 * in flight, and no more (each is a promise chain the fake clock drives).
 */
const DEMAND = 8_000;

/** Fake milliseconds to finish `calls` successful calls, and the calls rejected on the way. */
export async function job(
  options: AdaptiveOptions<string>,
  behaviour: Behaviour,
  calls: number,
  demand = DEMAND,
): Promise<{ ms: number; rejected: number; service: SimulatedService }> {
  // A budget of its own: callers stopped while holding a turn never give it back, and jobs run
  // one after another in a process must not inherit each other's.
  const service = new SimulatedService(options, behaviour, new DescriptorBudget(100_000)).start(demand);
  while (service.ok < calls) await service.run(10);
  service.stop();
  return { ms: service.clock.now(), rejected: service.rejected, service };
}

export const fixed = (level: number): AdaptiveOptions<string> => ({ min: level, max: level, initial: level });

/** The best fixed level's time over `levels`, and the adaptive limit's time as a share of its speed. */
export async function sideBySide(
  shape: () => Behaviour,
  levels: number[],
  calls: number,
  demand = DEMAND,
): Promise<{ best: number; bestMs: number; ratio: number; adaptive: SimulatedService }> {
  let best = 0;
  let bestMs = Number.POSITIVE_INFINITY;
  for (const level of levels) {
    const { ms } = await job(fixed(level), shape(), calls, demand);
    if (ms < bestMs) [best, bestMs] = [level, ms];
  }
  const adaptive = await job({ objective: 'throughput', max: demand }, shape(), calls, demand);
  return { best, bestMs, ratio: bestMs / adaptive.ms, adaptive: adaptive.service };
}
