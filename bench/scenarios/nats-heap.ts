/**
 * The coordinator's memory over a long remote stage: N tiny items (a number doubled) through
 * jetstream() to two worker processes, on a nats-server of its own. The executor is driven as a
 * cpu() stage drives it (requests of its batch size, at most its capacity in flight), and the heap
 * is sampled as the run goes: flat means the coordinator holds only what is in flight.
 *   node --conditions=sluice-source --import tsx bench/scenarios/nats-heap.ts - [items]
 */
import { jetstream } from '@sluice/nats';
import { TestNatsServer } from '../../packages/nats/test/helpers/nats-server.js';
import { fixture, openStage } from '../../packages/nats/test/helpers/stage.js';
import { spawnWorker } from '../../packages/nats/test/helpers/worker-process.js';

const items = Number(process.argv[3] ?? 2_000_000); // argv[2] names the contender, as in every scenario
const server = new TestNatsServer();
await server.start();
const workers = await Promise.all(
  ['a', 'b'].map((name) => spawnWorker(server.url, fixture('double.task.ts'), name)),
);
const remote = jetstream({ servers: server.url });
const stage = openStage<number, number>(remote, fixture('double.task.ts'), 'double');
await stage.ready?.();

/** Heap used, MB, at each tenth of the run. */
const heap: number[] = [];
let next = 0;
let done = 0;
let checksum = 0;
const started = performance.now();
await new Promise<void>((resolve, reject) => {
  const pump = (): void => {
    while (next < items && next - done < stage.capacity * stage.batchSize) {
      const size = Math.min(stage.batchSize, items - next);
      const first = next;
      next += size;
      const request = Array.from({ length: size }, (_, i) => first + i);
      stage.execute({ items: request, first }).then((outcome) => {
        for (const value of outcome.values) checksum += value as number;
        const before = Math.floor((done * 10) / items);
        done += size;
        if (Math.floor((done * 10) / items) > before) heap.push(process.memoryUsage().heapUsed / 1e6);
        if (done >= items) resolve();
        else pump();
      }, reject);
    }
  };
  pump();
});
const seconds = (performance.now() - started) / 1000;
if (checksum !== items * (items - 1)) throw new Error(`wrong answers: checksum ${checksum}`);
const stats = remote.stats()[0];
await stage.close();
await remote.close();
await Promise.all(workers.map((worker) => worker.stop()));
await server.stop();
console.log(
  JSON.stringify({
    contender: `jetstream(), 2 worker processes, ${items.toLocaleString('en')} items`,
    items,
    seconds,
    itemsPerSecond: items / seconds,
    heapMbByTenth: heap.map((mb) => Math.round(mb)),
    peakInFlight: stats?.peakInFlight,
    itemsPerMessage: stats?.itemsPerMessage,
    duplicates: stats?.duplicates,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
