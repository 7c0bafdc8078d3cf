/**
 * Remote stages: items sent through a broker to worker processes and answered.
 *   node --import tsx bench/scenarios/remote.ts <contender> <items> [n]
 * Tiny items (the identity), 2 worker processes each:
 *   sluice-workers   a flow's cpu() stage with executor: jetstream(), on 2 `sluice worker` processes
 *   raw-jetstream    a batched publish, consume and reply loop written directly with @nats-io/jetstream
 *                    (100 items per message, 2 consumer processes): the floor under any JetStream queue
 *   bullmq           BullMQ's no-op jobs on the local Redis (2 worker processes, concurrency 100 each)
 * A CPU stage of sum-of-squares calls of size n (~2 ms each):
 *   sluice-workers-cpu   on 2 `sluice worker --threads 1` processes
 *   local-pool           the same cpu() stage on a local pool of 2 threads
 * Workers and pools are started and warmed before the clock starts. Prints one JSON line.
 */
import { jetstream } from '@sluice/nats';
import { cpu, flow } from 'sluice';
import { WorkerProcess } from '../../packages/cli/src/worker/worker-process.js';
import { bullmqNoop } from './bullmq-noop.js';
import { rawJetStreamLoop } from './raw-jetstream.js';
import { printResult } from './timed-contender.js';

const NATS = 'nats://127.0.0.1:4222';
const REDIS = 'redis://127.0.0.1:6379';
const WORKERS = 2;
const [contender = 'sluice-workers', itemsArg = '200000', nArg = '0'] = process.argv.slice(2);
const items = Number(itemsArg);
const n = Number(nArg);
const identityUrl = new URL('./tasks/identity.task.ts', import.meta.url);
const sumUrl = new URL('./tasks/sum.task.ts', import.meta.url);

/** Times `items` through a cpu() stage on `WORKERS` sluice worker processes of `threads` each. */
async function sluiceWorkers(task: URL, input: () => number[], threads: number): Promise<number> {
  const workers = Array.from(
    { length: WORKERS },
    (_, i) => new WorkerProcess({ tasks: [task], servers: NATS, threads, name: `bench-${process.pid}-${i}` }),
  );
  try {
    await Promise.all(workers.map((w) => w.started()));
    const warm = jetstream({ servers: NATS });
    await flow(input().slice(0, 2_000))
      .map(cpu<number, number>(task, { executor: warm }))
      .collect();
    await warm.close();
    const remote = jetstream({ servers: NATS });
    const data = input();
    const started = performance.now();
    const out = await flow(data)
      .map(cpu<number, number>(task, { executor: remote }))
      .collect();
    const seconds = (performance.now() - started) / 1000;
    await remote.close();
    if (out.length !== data.length) throw new Error(`${out.length} results for ${data.length} items`);
    return seconds;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

async function localPool(input: () => number[]): Promise<number> {
  const { WorkerPool } = await import('sluice');
  const pool = new WorkerPool<number, number>(sumUrl, { workers: WORKERS });
  try {
    await pool.ready();
    await flow(input().slice(0, 200)).map(cpu<number, number>(sumUrl, { pool })).collect();
    const started = performance.now();
    await flow(input()).map(cpu<number, number>(sumUrl, { pool })).collect();
    return (performance.now() - started) / 1000;
  } finally {
    await pool.close();
  }
}

const ids = (): number[] => Array.from({ length: items }, (_, i) => i);
const sizes = (): number[] => Array.from({ length: items }, () => n);

let seconds: number;
switch (contender) {
  case 'sluice-workers':
    seconds = await sluiceWorkers(identityUrl, ids, 1);
    break;
  case 'raw-jetstream':
    seconds = (await rawJetStreamLoop(NATS, items, WORKERS, 100)).seconds;
    break;
  case 'bullmq':
    seconds = (await bullmqNoop(REDIS, items, WORKERS, 100)).seconds;
    break;
  case 'sluice-workers-cpu':
    seconds = await sluiceWorkers(sumUrl, sizes, 1);
    break;
  case 'local-pool':
    seconds = await localPool(sizes);
    break;
  default:
    throw new Error(`unknown contender ${contender}`);
}
printResult(contender, items, seconds);
