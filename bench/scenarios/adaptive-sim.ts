/**
 * The adaptive limit against simulated services on the fake clock: the shapes of
 * packages/sluice/test/limit (same seeds), each side by side with a fixed level, for each
 * objective. Deterministic: the figures depend on the code, not on the machine or its load.
 *
 *   node --conditions=sluice-source --import tsx bench/scenarios/adaptive-sim.ts [shape...]
 *     shapes: capacity-20k, capacity-80k, capacity-240k, cpu, peaked, fast-429, slow-429 (default: all)
 */
import {
  type Behaviour,
  fixed,
  job,
  SimulatedService,
  seeded,
  tooMany,
} from '../../packages/sluice/test/helpers/simulated-service.js';

type Objective = 'throughput' | 'latency';

/** 200 ms, holding thousands; latency grows with the square of the load (best fixed: 3,200). */
const highCapacity = (): Behaviour => {
  const random = seeded(7);
  return (inflight) => ({ ms: 195 + 10 * random() + 40 * (inflight / 1_600) ** 2 });
};
/** Calls cost CPU: past about 60 in flight it serves 2,500 a second and no more. */
const cpuBound = (): Behaviour => {
  const random = seeded(11);
  return (inflight) => ({ ms: 18 + 4 * random() + inflight / 2.5 });
};
/** Throughput peaks at 50 in flight and falls past it. */
const peaked = (): Behaviour => {
  const random = seeded(13);
  return (inflight) => ({ ms: (18 + 4 * random()) * Math.max(1, (inflight / 50) ** 1.4) });
};
/** 429 at once (with Retry-After: 1) above 300 in flight, else 45 to 55 ms. */
const rejecting = (): Behaviour => {
  const random = seeded(17);
  return (inflight) => (inflight > 300 ? { ms: 1, error: tooMany('1') } : { ms: 45 + 10 * random() });
};
/** 429 above 300 in flight, but only after 45 to 55 ms, as long as an answer. */
const slowRefusal = (): Behaviour => {
  const random = seeded(19);
  return (inflight) => ({ ms: 45 + 10 * random(), ...(inflight > 300 ? { error: tooMany() } : {}) });
};

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

async function sideBySide(
  name: string,
  shape: () => Behaviour,
  level: number,
  calls: number,
  demand: number,
) {
  const atLevel = await job(fixed(level), shape(), calls, demand);
  const cells: string[] = [];
  for (const objective of ['throughput', 'latency'] as Objective[]) {
    const { ms, rejected, service } = await job({ objective, max: demand }, shape(), calls, demand);
    const { peak } = service.limiter.report().perKey;
    const share = rejected / (calls + rejected);
    cells.push(`${pct(atLevel.ms / ms)} (peak ${peak}${rejected > 0 ? `, ${pct(share)} rejected` : ''})`);
  }
  console.log(`| ${name} | ${calls.toLocaleString('en')} calls vs fixed ${level} | ${cells.join(' | ')} |`);
}

/** A hidden-limit shape over 8 s of fake time: rejections in the first 3 s and after, the limit at the end. */
async function refusals(name: string, shape: () => Behaviour) {
  const cells: string[] = [];
  for (const objective of ['throughput', 'latency'] as Objective[]) {
    const service = new SimulatedService({ objective, max: 1_000 }, shape()).start(1_000);
    await service.run(3_000);
    const [ok, rejected] = [service.ok, service.rejected];
    await service.run(5_000);
    service.stop();
    const late = service.rejected - rejected;
    cells.push(
      `${rejected} rejected in 3 s, then ${pct(late / (service.ok - ok + late))}; limit ${service.limit()}`,
    );
  }
  console.log(`| ${name} | 8 s, 1,000 callers | ${cells.join(' | ')} |`);
}

const shapes: Record<string, () => Promise<void>> = {
  'capacity-20k': () => sideBySide('200 ms, holds thousands', highCapacity, 3_200, 20_000, 8_000),
  'capacity-80k': () => sideBySide('200 ms, holds thousands', highCapacity, 3_200, 80_000, 8_000),
  'capacity-240k': () => sideBySide('200 ms, holds thousands', highCapacity, 3_200, 240_000, 8_000),
  cpu: () => sideBySide('calls cost CPU', cpuBound, 400, 20_000, 1_000),
  peaked: () => sideBySide('throughput peaks at 50', peaked, 50, 20_000, 1_000),
  'fast-429': () => sideBySide('429 above 300, at once', rejecting, 300, 20_000, 1_000),
  'slow-429': () => refusals('429 above 300, after 50 ms', slowRefusal),
};

const asked = process.argv.slice(2);
console.log("| shape | job | 'throughput' vs fixed | 'latency' vs fixed |");
console.log('| --- | --- | --- | --- |');
for (const name of asked.length > 0 ? asked : Object.keys(shapes)) {
  const run = shapes[name];
  if (run === undefined) throw new Error(`unknown shape ${name}; one of ${Object.keys(shapes).join(', ')}`);
  await run();
}
