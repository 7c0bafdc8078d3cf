/**
 * The three workloads of `sluice lab`, each run by every approach the classic write-ups compare:
 * serially, with async concurrency on the event loop (a sluice map), on worker threads and on
 * child processes (a sluice cpu() stage on a WorkerPool), and, for the combined workload, as one
 * flow that fetches on the loop and computes on the pool.
 */
import type { CpuTask } from 'sluice';
import { flow } from 'sluice';
import { httpGet } from './http-get.js';
import { type Approach, describeNumbers, type Measured, measure, sameNumbers } from './measure.js';
import { openAgent, poolApproach, startDelayServer } from './resources.js';
import type { LabSession } from './session.js';
import { sumOfSquares } from './sum-of-squares.js';
import { plural } from './table.js';
import type { FetchItem } from './tasks/fetch.task.js';

export const workloadNames = ['io', 'cpu', 'combined'] as const;
export type WorkloadName = (typeof workloadNames)[number];

export interface LabSizes {
  /** Requests of the IO and combined workloads. */
  requests: number;
  /** The server's delay before each reply. */
  delayMs: number;
  /** Sum-of-squares calls of the CPU workload. */
  tasks: number;
  /** n of each sum-of-squares call (CPU and combined workloads). */
  size: number;
  /** In-flight requests for the async approaches. */
  concurrency: number;
  /** Workers per pool. */
  workers: number;
}

export interface WorkloadResult {
  workload: WorkloadName;
  title: string;
  /** What was run, on how many workers. */
  subtitle: string;
  results: Measured<number[]>[];
}

/** Runs the named workloads in order; the delay server is started once, if any needs it. */
export async function runWorkloads(
  session: LabSession,
  names: readonly WorkloadName[],
  sizes: LabSizes,
  onResult: (result: WorkloadResult) => Promise<void>,
): Promise<WorkloadResult[]> {
  const needsServer = names.some((name) => name !== 'cpu');
  const origin = needsServer ? await startDelayServer(session, sizes.delayMs) : '';
  const out: WorkloadResult[] = [];
  for (const name of names) {
    const result = await runWorkload(session, name, sizes, origin);
    await onResult(result);
    out.push(result);
  }
  return out;
}

async function runWorkload(
  session: LabSession,
  name: WorkloadName,
  sizes: LabSizes,
  origin: string,
): Promise<WorkloadResult> {
  const { requests, delayMs, tasks, size, workers, concurrency } = sizes;
  const on = `${plural(workers, 'worker')} per pool; lower is better`;
  const sum = `a sum of i*i for i < ${size.toLocaleString('en-US')}`;
  const [title, subtitle, approaches] =
    name === 'cpu'
      ? [`CPU: ${tasks} calls of ${sum}`, on, cpuApproaches(session, sizes)]
      : [
          name === 'io'
            ? `IO: ${requests} requests to a local server answering after ${delayMs} ms`
            : `Combined: ${requests} fetches (${delayMs} ms each), each then ${sum}`,
          `async at concurrency ${concurrency}; ${on}`,
          ioApproaches(session, sizes, origin, name === 'combined'),
        ];
  return {
    workload: name,
    title,
    subtitle,
    results: await measure(session, approaches, sameNumbers, describeNumbers),
  };
}

/** The same items through a cpu() stage, on worker threads and on child processes. */
function threadsAndProcesses<In>(
  session: LabSession,
  sizes: LabSizes,
  task: string,
  warmItem: In,
  items: () => In[],
): Approach<number[]>[] {
  const run = (stage: CpuTask<In, number>): Promise<number[]> =>
    flow(items()).map(stage).collect({ signal: session.signal });
  const { workers } = sizes;
  const kinds = [
    ['thread', 'threads', plural(workers, 'worker')],
    ['process', 'processes', plural(workers, 'child', 'children')],
  ] as const;
  return kinds.map(([isolation, approach, on]) =>
    poolApproach(
      session,
      { task, workers, isolation, warmItem },
      approach,
      `${approach} (cpu(), ${on})`,
      run,
    ),
  );
}

/** The CPU workload: `tasks` calls of sumOfSquares(size). */
function cpuApproaches(session: LabSession, sizes: LabSizes): Approach<number[]>[] {
  const { tasks, size, concurrency } = sizes;
  const items = (): number[] => Array.from({ length: tasks }, () => size);
  return [
    {
      approach: 'serial',
      label: 'serial (one at a time)',
      prepare: async () => void sumOfSquares(size),
      run: async () => items().map((n) => sumOfSquares(n)),
    },
    blockingAsync(session, concurrency, items),
    ...threadsAndProcesses(session, sizes, 'sum', 1000, items),
  ];
}

/**
 * Concurrency on one thread cannot help a step that never waits: this is serial with extra steps,
 * and the run's warning that the stage blocks the event loop is the point being shown. It goes to
 * the table's note, not to Node's warnings in the middle of the tables.
 */
function blockingAsync(session: LabSession, concurrency: number, items: () => number[]): Approach<number[]> {
  let blocked = false;
  const logger = {
    warn: (fields: object) => {
      if ((fields as { code?: unknown }).code === 'SLUICE_W_LOOP_BLOCKED') blocked = true;
    },
    info: () => {},
    debug: () => {},
  };
  return {
    approach: 'async',
    label: `async (map, concurrency ${concurrency})`,
    run: () => {
      blocked = false;
      return flow(items())
        .map(async (n) => sumOfSquares(n), { concurrency })
        .collect({ signal: session.signal, logger });
    },
    note: () => (blocked ? 'blocked the event loop (SLUICE_W_LOOP_BLOCKED)' : undefined),
  };
}

/** IO (`compute` false) or combined (`compute` true): fetch each item, then compute what it names. */
function ioApproaches(
  session: LabSession,
  sizes: LabSizes,
  origin: string,
  compute: boolean,
): Approach<number[]>[] {
  const { requests, concurrency, size } = sizes;
  // The IO workload's item i answers i; the combined workload's answers the size of its CPU work.
  const urls = (): string[] =>
    Array.from({ length: requests }, (_, i) => `${origin}/?n=${compute ? size : i}&i=${i}`);
  const finish = (body: string): number => (compute ? sumOfSquares(Number(body)) : Number(body));
  const serialAgent = openAgent(session, 1);
  const asyncAgent = openAgent(session, concurrency);
  const fetchItems = (): FetchItem[] => urls().map((url) => ({ url, compute }));
  const warm: FetchItem = { url: `${origin}/?n=1000`, compute };
  const approaches: Approach<number[]>[] = [
    {
      approach: 'serial',
      label: 'serial (one at a time)',
      prepare: async () => void (await httpGet(warm.url, serialAgent)),
      run: async () => {
        const out: number[] = [];
        for (const url of urls()) {
          session.check();
          out.push(finish(await httpGet(url, serialAgent, session.signal)));
        }
        return out;
      },
    },
    {
      approach: 'async',
      label: `async (map, concurrency ${concurrency})`,
      prepare: async () => {
        await Promise.all(Array.from({ length: concurrency }, () => httpGet(warm.url, asyncAgent)));
      },
      run: () =>
        flow(urls())
          .map(async (url, { signal }) => finish(await httpGet(url, asyncAgent, signal)), { concurrency })
          .collect({ signal: session.signal }),
    },
    ...threadsAndProcesses(session, sizes, 'fetch', warm, fetchItems),
  ];
  if (compute) {
    // Fetch on the event loop, compute on worker threads, the two overlapping in one flow.
    approaches.push(
      poolApproach(
        session,
        { task: 'sum', workers: sizes.workers, isolation: 'thread', warmItem: 1000 },
        'combined',
        `combined (map, then cpu() on ${plural(sizes.workers, 'thread')})`,
        (stage: CpuTask<number, number>) =>
          flow(urls())
            .map(async (url, { signal }) => Number(await httpGet(url, asyncAgent, signal)), { concurrency })
            .map(stage)
            .collect({ signal: session.signal }),
      ),
    );
  }
  return approaches;
}
