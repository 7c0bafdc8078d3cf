/**
 * `sluice lab cluster`: the broker-and-workers comparison of the classic write-ups, on this
 * machine. The same CPU workload (sums of squares) runs through NATS JetStream on 1, 2 and 4
 * `sluice worker` processes, then on 2 with one of them killed (SIGKILL) halfway through: what
 * it held is delivered again to the other after the ack wait, and no item is lost.
 */
import { fileURLToPath } from 'node:url';
import { jetstream, type RemoteStageStats } from '@sluice/nats';
import { cpu, flow } from 'sluice';
import { LabMismatchError } from '../exit.js';
import { WorkerProcess } from '../worker/worker-process.js';
import { writeBarChart } from './charts.js';
import { taskUrl } from './resources.js';
import { type LabSession, withSession } from './session.js';
import { sumOfSquares } from './sum-of-squares.js';
import { formatSeconds, formatSpeedup, formatTable, plural } from './table.js';

export interface ClusterOptions {
  nats: string;
  tasks: number;
  size: number;
  /** Seconds a message may go unacknowledged before it is delivered to another worker. */
  ackWait: number;
  out: string;
  json: boolean;
}

export interface ClusterResult {
  approach: string;
  label: string;
  workers: number;
  /** Whether one worker was killed halfway through. */
  killed: boolean;
  seconds: number;
  /** One worker's seconds over these seconds. */
  speedup: number;
  /** Items answered from a message delivered again. */
  redelivered: number;
  /** Answers dropped because the item had one already. */
  duplicates: number;
  /** Items with no correct result at the end: always 0, or the command fails. */
  lost: number;
}

/** What `sluice lab cluster --json` prints. */
export interface ClusterReport {
  command: 'lab cluster';
  nats: string;
  tasks: number;
  size: number;
  ackWaitSeconds: number;
  results: ClusterResult[];
  chart: string;
}

interface Setup {
  workers: number;
  killed: boolean;
}

const setups: readonly Setup[] = [
  { workers: 1, killed: false },
  { workers: 2, killed: false },
  { workers: 4, killed: false },
  { workers: 2, killed: true },
];

export function runClusterLab(options: ClusterOptions): Promise<ClusterReport> {
  return withSession(async (session) => {
    const { tasks, size, json } = options;
    if (!json)
      process.stdout.write(
        `sluice lab cluster: ${tasks} sums of i*i for i < ${size.toLocaleString('en-US')}, through NATS JetStream at ${options.nats}, on sluice worker processes of one thread each. Workers are started and warmed before each clock starts.\n`,
      );
    const results: ClusterResult[] = [];
    for (const setup of setups) {
      const measured = await runSetup(session, options, setup);
      const baseline = results[0]?.seconds ?? measured.seconds;
      results.push({ ...measured, speedup: baseline / measured.seconds });
    }
    const chart = await writeBarChart(options.out, 'lab-cluster', {
      title: 'CPU work on worker processes through a broker (NATS JetStream)',
      subtitle: `${tasks} sums of i*i for i < ${size.toLocaleString('en-US')}; a killed worker's messages move on after ${options.ackWait} s`,
      unit: 's',
      bars: results.map((r) => ({ label: r.label, value: r.seconds, speedup: r.speedup })),
    });
    const report: ClusterReport = {
      command: 'lab cluster',
      nats: options.nats,
      tasks,
      size,
      ackWaitSeconds: options.ackWait,
      results,
      chart,
    };
    if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else
      process.stdout.write(
        `${formatTable(
          ['workers', 'time', 'speed-up', 'redelivered', 'items lost'],
          results.map((r) => [
            r.label,
            formatSeconds(r.seconds),
            formatSpeedup(r.speedup),
            String(r.redelivered),
            String(r.lost),
          ]),
          ['left', 'right', 'right', 'right', 'right'],
        )}\nchart: ${chart}\n`,
      );
    return report;
  });
}

/** Starts the setup's workers, warms them, times the workload (killing one halfway if asked) and stops them. */
async function runSetup(
  session: LabSession,
  options: ClusterOptions,
  setup: Setup,
): Promise<Omit<ClusterResult, 'speedup'>> {
  session.check();
  const task = taskUrl('sum');
  const workers = Array.from(
    { length: setup.workers },
    (_, i) =>
      new WorkerProcess({
        tasks: [fileURLToPath(task)],
        servers: options.nats,
        threads: 1,
        name: `lab-${process.pid}-${i + 1}`,
        args: ['--wait', '10', '--stats-interval', '0'],
      }),
  );
  const stopWorkers = session.defer(() => Promise.all(workers.map((w) => w.stop('SIGKILL'))));
  await Promise.all(workers.map((w) => w.started()));
  // Untimed, on a run of its own: every worker has run the task a few times.
  const warm = jetstream({ servers: options.nats });
  const closeWarm = session.defer(() => warm.close());
  await flow(Array.from({ length: setup.workers * 8 }, () => Math.min(options.size, 1_000_000)))
    .map(cpu<number, number>(task, { executor: warm }))
    .collect({ signal: session.signal });
  await closeWarm();

  const remote = jetstream({ servers: options.nats, ackWaitMs: options.ackWait * 1000 });
  const closeRemote = session.defer(() => remote.close());
  const stage = cpu<number, number>(task, { executor: remote });
  const items = Array.from({ length: options.tasks }, () => options.size);
  const killer = setup.killed ? killHalfway(remote, workers[0] as WorkerProcess, options.tasks) : undefined;
  const started = performance.now();
  const results = await flow(items).map(stage).collect({ signal: session.signal });
  const seconds = (performance.now() - started) / 1000;
  killer?.cancel();
  const stats = remote.stats().at(-1) as RemoteStageStats;
  await closeRemote();
  await stopWorkers();

  const expected = sumOfSquares(options.size);
  const lost = options.tasks - results.filter((value) => value === expected).length;
  const label = `${plural(setup.workers, 'worker')}${setup.killed ? ', one killed halfway' : ''}`;
  if (lost > 0 || results.length !== options.tasks)
    throw new LabMismatchError(`${label}: ${lost} of ${options.tasks} items have no correct result`);
  return {
    approach: `${setup.workers}-workers${setup.killed ? '-one-killed' : ''}`,
    label,
    workers: setup.workers,
    killed: setup.killed,
    seconds,
    redelivered: stats.redelivered,
    duplicates: stats.duplicates,
    lost,
  };
}

/** SIGKILLs `victim` once half the items are answered: a machine lost mid-run, nothing drained. */
function killHalfway(
  remote: { stats(): RemoteStageStats[] },
  victim: WorkerProcess,
  items: number,
): { cancel(): void } {
  const timer = setInterval(() => {
    const answered = remote.stats().at(-1)?.answered ?? 0;
    if (answered < items / 2) return;
    clearInterval(timer);
    void victim.stop('SIGKILL');
  }, 10);
  return { cancel: () => clearInterval(timer) };
}
