/**
 * BullMQ's no-op job rate on the local Redis: `jobs` jobs added in bulk (1,000 per call) and
 * processed by `workers` child processes, each a BullMQ Worker with `concurrency` jobs at once
 * whose processor does nothing. Timed from the first add to the last completion (polled every
 * 20 ms); the workers are started and connected before the clock starts.
 *
 *   node --import tsx bench/scenarios/bullmq-noop.ts run <redisUrl> <jobs> [workers] [concurrency]
 *   node --import tsx bench/scenarios/bullmq-noop.ts work <redisUrl> <queue> <concurrency>
 *
 * Imported by remote.ts; `work` is the child's half.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { childReady } from './child-ready.js';

const ADD_CHUNK = 1_000;

/** BullMQ 6 takes an ioredis client from an ES module; workers need `maxRetriesPerRequest: null`. */
function connection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null });
}

export async function bullmqNoop(
  redisUrl: string,
  jobs: number,
  workers = 2,
  concurrency = 100,
): Promise<{ items: number; seconds: number }> {
  const name = `bench-noop-${process.pid}-${Date.now()}`;
  const client = connection(redisUrl);
  const queue = new Queue(name, { connection: client });
  const children: ChildProcess[] = [];
  try {
    await queue.waitUntilReady();
    const self = fileURLToPath(import.meta.url);
    for (let i = 0; i < workers; i++) {
      const child = fork(self, ['work', redisUrl, name, String(concurrency)], {
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      });
      children.push(child);
      await childReady(child);
    }
    const started = performance.now();
    for (let first = 0; first < jobs; first += ADD_CHUNK) {
      const count = Math.min(ADD_CHUNK, jobs - first);
      await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: 'noop', data: first + i })));
    }
    while ((await queue.getCompletedCount()) < jobs) await sleep(20);
    const seconds = (performance.now() - started) / 1000;
    return { items: jobs, seconds };
  } finally {
    for (const child of children) child.kill();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    // A client given to BullMQ stays open after close(): without this the process never exits.
    await client.quit();
  }
}

async function work(redisUrl: string, name: string, concurrency: number): Promise<void> {
  const worker = new Worker(name, async (job) => job.data, { connection: connection(redisUrl), concurrency });
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, redisUrl = 'redis://127.0.0.1:6379', ...rest] = process.argv.slice(2);
  if (mode === 'work') await work(redisUrl, rest[0] as string, Number(rest[1] ?? 100));
  else
    console.log(JSON.stringify(await bullmqNoop(redisUrl, Number(rest[0] ?? 20_000), Number(rest[1] ?? 2))));
}
