/**
 * `jetstream()`: an ExecutorProvider that runs cpu() stages on remote workers. One NATS connection
 * serves every stage and run it opens; each stage of each run gets its own streams, announced in
 * the runs bucket for workers to find, and deleted when the run ends.
 */
import type { ConnectionOptions } from '@nats-io/transport-node';
import type { Executor, ExecutorContext, ExecutorProvider, ResolvedTask } from 'sluice';
import { type Link, openLink } from './link.js';
import { newRunId, stagePlace, token } from './names.js';
import { RemoteExecutor, type RemoteStageStats } from './remote-executor.js';
import { identifyTask } from './task-identity.js';
import { checkObject, checkPositiveInteger, checkString } from './validate.js';
import { liveWorkers, type WorkerInfo } from './worker-info.js';

export interface JetStreamOptions extends ConnectionOptions {
  /**
   * Names the run on the broker (subjects, streams). Two coordinators must not share one at once.
   * @default a fresh random id per provider
   */
  runId?: string;
  /**
   * Items published and not yet answered, at most, per stage: the bound on what the broker and the
   * workers hold for this run.
   * @default 10000
   */
  maxInFlight?: number;
  /**
   * Milliseconds a worker may hold a message without acknowledging it or reporting progress
   * before the server delivers it to another worker: how soon a killed worker's items move on.
   * Live workers report progress on long batches, so this need not cover a batch's run time.
   * @default 10000
   */
  ackWaitMs?: number;
  /**
   * Deliveries of one message before the server gives up on it; its first unanswered item then
   * fails with SLUICE_ERR_MAX_DELIVERIES and reaches the stage's onError policy.
   * @default 4
   */
  maxDeliver?: number;
  /**
   * Replicas of each stream (1, 3 or 5): 3 on a NATS cluster keeps a run going through the loss
   * of a server.
   * @default 1
   */
  replicas?: number;
  /**
   * Milliseconds `ready()` waits for a worker serving the stage's task before it rejects with
   * SLUICE_ERR_NO_WORKERS.
   * @default 60000
   */
  workerWaitMs?: number;
}

/** The provider `jetstream()` returns: an ExecutorProvider with a connection to close. */
export interface JetStreamProvider extends ExecutorProvider {
  /** The run id on the broker. */
  readonly runId: string;
  /** Workers announcing themselves now, with what they serve and what they did. */
  workers(): Promise<WorkerInfo[]>;
  /** Per stage opened so far: items published, answered, duplicates, redeliveries, and per-worker counts. */
  stats(): RemoteStageStats[];
  /** Closes every stage still open and the connection. */
  close(): Promise<void>;
}

/**
 * Runs cpu() stages on workers started with `startWorker` (or `sluice worker`) anywhere that
 * reaches the same NATS. Auth and TLS options are NATS's own and are passed through.
 * @example
 * const remote = jetstream({ servers: 'nats://127.0.0.1:4222' });
 * await flow(items).map(cpu(new URL('./normalize.task.js', import.meta.url), { executor: remote })).collect();
 * await remote.close();
 */
export function jetstream(options: JetStreamOptions = {}): JetStreamProvider {
  checkObject('jetstream(options)', options);
  const {
    runId = newRunId(),
    maxInFlight = 10_000,
    ackWaitMs = 10_000,
    maxDeliver = 4,
    replicas = 1,
    workerWaitMs = 60_000,
    ...connection
  } = options;
  checkString('jetstream.runId', runId);
  checkPositiveInteger('jetstream.maxInFlight', maxInFlight);
  checkPositiveInteger('jetstream.ackWaitMs', ackWaitMs, 1_000);
  checkPositiveInteger('jetstream.maxDeliver', maxDeliver, 2);
  checkPositiveInteger('jetstream.replicas', replicas);
  checkPositiveInteger('jetstream.workerWaitMs', workerWaitMs, 0);
  const run = token(runId);
  // One connection while any stage is open: the last stage to close closes it, so a process that
  // closed its stages exits on its own; the next open() connects again.
  let link: Promise<Link> | undefined;
  let users = 0;
  const connectOnce = (): Promise<Link> => {
    link ??= openLink(connection, 'coordinator');
    return link;
  };
  const disconnect = async (): Promise<void> => {
    const closing = link;
    link = undefined;
    if (closing !== undefined) await (await closing.catch(() => undefined))?.nc.close();
  };
  const open = new Set<RemoteExecutor<unknown, unknown>>();
  /** Every stage opened, closed ones too: their counts stay readable after the run. */
  const stages: RemoteExecutor<unknown, unknown>[] = [];
  let closed = false;
  return {
    runId: run,
    open<In, Out>(task: ResolvedTask, context: ExecutorContext): Executor<In, Out> {
      const executor = new RemoteExecutor<In, Out>(
        connectOnce(),
        identifyTask(task.path),
        stagePlace(run, context.stage),
        {
          maxInFlight,
          ackWaitMs,
          maxDeliver,
          replicas,
          workerWaitMs,
          initialItemsPerMessage: 32,
          maxItemsPerMessage: 1_000,
          messageWorkMs: 50,
        },
      );
      open.add(executor as RemoteExecutor<unknown, unknown>);
      stages.push(executor as RemoteExecutor<unknown, unknown>);
      users++;
      const close = executor.close.bind(executor);
      let released = false;
      return Object.assign(executor, {
        close: async () => {
          await close();
          open.delete(executor as RemoteExecutor<unknown, unknown>);
          if (released) return;
          released = true;
          if (--users === 0) await disconnect();
        },
      });
    },
    async workers() {
      return liveWorkers(await connectOnce());
    },
    stats() {
      return stages.map((executor) => executor.stats());
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...open].map((executor) => executor.close()));
      open.clear();
      await disconnect();
    },
  };
}
