/**
 * The adaptive limit against simulated services on the fake clock: the shapes of
 * packages/sluice/test/limit (same seeds), each side by side with a fixed level, for each
 * objective. Deterministic: the figures depend on the code, not on the machine or its load.
 *
 *   node --conditions=sluice-source --import tsx bench/scenarios/adaptive-sim.ts [shape...]
 *     shapes: capacity-20k, capacity-80k, capacity-240k, connecting-20k, connecting-80k, crowded-20k, crowded-80k, crowded-cliffs (80k, cliffs at 2,500 and 3,500),
 *     cpu, peaked, fast-429, slow-429 (default: all)
 */
import {
  type Behaviour,
  fixed,
  job,
  SimulatedService,
  serviceShapes,
} from '../../packages/sluice/test/helpers/simulated-service.js';

type Objective = 'throughput' | 'latency';

const { highCapacity, connecting, crowdedCores, cpuBound, peaked, rejecting, slowRefusal } = serviceShapes;

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
  'connecting-20k': () => sideBySide('200 ms, new connections cost', connecting, 3_200, 20_000, 8_000),
  'connecting-80k': () => sideBySide('200 ms, new connections cost', connecting, 3_200, 80_000, 8_000),
  'crowded-20k': () => sideBySide('200 ms, cliff past 3,000', crowdedCores, 3_000, 20_000, 8_000),
  'crowded-80k': () => sideBySide('200 ms, cliff past 3,000', crowdedCores, 3_000, 80_000, 8_000),
  // Startup's windows land on a grid of loads about 2.89 apart: where the cliff falls on it moves
  // one cliff's figure by several points, so the test judges three together.
  'crowded-cliffs': async () => {
    for (const cliff of [2_500, 3_500]) {
      const name = `200 ms, cliff past ${cliff.toLocaleString('en')}`;
      await sideBySide(name, () => crowdedCores(cliff), cliff, 80_000, 8_000);
    }
  },
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
