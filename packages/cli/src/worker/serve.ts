/**
 * `sluice worker`'s life: check the task modules, wait for the NATS server, serve until SIGINT or
 * SIGTERM, then drain (batches in hand finish, their results are published and acked) and stop.
 * A second signal exits at once with 130, for an operator who will not wait.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startWorker, type WorkerStats } from '@sluice/nats';
import { type Logger, TaskNotFoundError } from 'sluice';
import { EXIT_INTERRUPTED } from '../interrupt.js';
import { watchBroker } from './broker-watch.js';

export interface ServeOptions {
  /** Task module paths as given on the command line. */
  readonly tasks: readonly string[];
  readonly servers: string;
  readonly threads?: number;
  readonly name?: string;
  /** Milliseconds to wait for the server at start; `Infinity` for ever. */
  readonly waitMs: number;
  /** Milliseconds between progress lines while items are done; 0 for none. */
  readonly statsIntervalMs: number;
  readonly logger: Logger;
}

/** Absolute paths of the task modules; the first that does not exist throws SLUICE_ERR_TASK_NOT_FOUND. */
export function resolveTasks(tasks: readonly string[]): string[] {
  return tasks.map((task) => {
    const file = resolve(task);
    if (!existsSync(file)) throw new TaskNotFoundError(`no task module at ${file}`);
    return file;
  });
}

/** The first SIGINT or SIGTERM aborts the returned signal; a second exits with 130 at once. */
function stopOnSignals(logger: Logger): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      logger.warn({ signal: name }, 'second signal, exiting without draining');
      process.exit(EXIT_INTERRUPTED);
    }
    logger.info({ signal: name }, 'stopping: finishing the batches in hand (signal again to quit at once)');
    controller.abort(new Error(`stopped by ${name}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Serves until stopped by a signal; resolves once drained. Rejects when the worker cannot start. */
export async function serveWorker(options: ServeOptions): Promise<void> {
  const { logger, servers } = options;
  const tasks = resolveTasks(options.tasks);
  logger.info({ tasks, servers, threads: options.threads, name: options.name }, 'worker starting');
  const stop = stopOnSignals(logger);
  const stopped = new Promise<void>((resolve) =>
    stop.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  const watch = await watchBroker({ servers, waitMs: options.waitMs, logger, signal: stop.signal }).catch(
    (error: unknown) => {
      stop.dispose();
      throw error;
    },
  );
  if (watch === undefined) {
    logger.info({}, 'stopped before the NATS server was reached');
    stop.dispose();
    return;
  }
  try {
    const worker = await startWorker({
      tasks,
      servers: servers.split(',').map((s) => s.trim()),
      logger,
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.name === undefined ? {} : { name: options.name }),
    });
    logger.info(summary(worker.stats()), 'worker started');
    const progress = reportProgress(options.statsIntervalMs, () => worker.stats(), logger);
    await stopped;
    clearInterval(progress);
    await worker.close();
    logger.info(summary(worker.stats()), 'worker stopped');
  } finally {
    stop.dispose();
    await watch.close();
  }
}

/** The fields of a log line about the worker: who it is, and what it has done. */
function summary(stats: WorkerStats): object {
  const { name, host, tasks, threads, done, failed, rate } = stats;
  return { worker: name, host, tasks, threads, done, failed, rate };
}

/** A progress line every `intervalMs` while items are being done; none while idle. */
function reportProgress(
  intervalMs: number,
  stats: () => WorkerStats,
  logger: Logger,
): NodeJS.Timeout | undefined {
  if (intervalMs <= 0) return undefined;
  let lastDone = stats().done;
  const timer = setInterval(() => {
    const now = stats();
    if (now.done === lastDone) return;
    lastDone = now.done;
    logger.info(summary(now), 'progress');
  }, intervalMs);
  timer.unref();
  return timer;
}
