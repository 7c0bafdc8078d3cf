/**
 * `startWorker`: a process serving task modules to any coordinator on the same NATS. It is
 * stateless: it announces itself in the workers bucket, finds the run stages whose task it serves
 * (same name, same file hash) in the runs bucket, and pulls their work. Kill it at any time: what
 * it held goes to another worker after the ack wait.
 */
import { availableParallelism, hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { KvWatchEntry } from '@nats-io/kv';
import type { ConnectionOptions } from '@nats-io/transport-node';
import { type Logger, WorkerPool } from 'sluice';
import { liveEntries } from './bucket-entries.js';
import { HEARTBEAT_MS, type Link, openLink, pause } from './link.js';
import { RUNS_BUCKET, stageKeyOf, stagePlace, token } from './names.js';
import { type LocalTask, RunServer } from './run-server.js';
import { identifyTask, taskPath } from './task-identity.js';
import { checkPositiveInteger, checkString } from './validate.js';
import type { WorkerInfo } from './worker-info.js';

export interface WorkerOptions extends ConnectionOptions {
  /** The task modules this worker serves: file URLs or paths. It runs nothing else. */
  tasks: readonly (URL | string)[];
  /**
   * Threads of each task's local pool.
   * @default os.availableParallelism()
   */
  threads?: number;
  /**
   * The name it announces and answers under.
   * @default `<host>:<pid>`
   */
  name?: string;
  /** Where it reports runs it joins and leaves, and messages it gives back. pino's shape. */
  logger?: Logger;
  /**
   * Milliseconds `close()` lets messages in hand finish before giving them back.
   * @default 30000
   */
  drainMs?: number;
}

/** What `stats()` says about a worker: its announcement, as the coordinator sees it. */
export type WorkerStats = WorkerInfo;

/** A running worker. */
export interface Worker {
  /** Name, host, tasks, threads, items done and failed, current rate, run stages served. */
  stats(): WorkerStats;
  /**
   * Stops taking work: messages in hand finish (or, after `drainMs`, go back to the queue), then
   * the pools and the connection close.
   */
  close(): Promise<void>;
}

/** Messages a worker holds per thread: one running, one ready to start when it ends. */
const MESSAGES_PER_THREAD = 2;
/** How often a worker reports progress on the messages it holds: well inside the shortest ack wait. */
const PROGRESS_MS = 300;
/** Window of the announced rate. */
const RATE_WINDOW_MS = 10_000;
/** Consecutive checks a run's entry must be missing before its streams count as abandoned. */
const MISSING_CHECKS = 3;
/**
 * And for how long, from the first of them: three of its coordinator's heartbeats. A stage whose
 * work consumer fails under it (a broker restarting, a consumer deleted) checks its entry on every
 * retry, three in well under a second; counted in checks alone, an entry missing for a moment (a
 * live coordinator puts it back at its next heartbeat) could cost a live run its streams, and
 * the run every message they held.
 */
const MISSING_MS = 3 * HEARTBEAT_MS;
/** Reconciles between two looks at every stream for stages nobody announces any more. */
const STREAM_SWEEP_TICKS = 5;

/**
 * Starts a worker: connects (waiting for NATS if it is not up yet), starts a local pool per task,
 * and serves every run stage that needs one of its tasks until closed.
 * @example
 * const worker = await startWorker({ tasks: [new URL('./normalize.task.js', import.meta.url)], servers: 'nats://127.0.0.1:4222' });
 * process.on('SIGTERM', () => worker.close());
 */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  if (typeof options !== 'object' || options === null || !Array.isArray(options.tasks)) {
    checkString('startWorker(options).tasks', undefined);
  }
  const {
    tasks,
    threads = availableParallelism(),
    name = `${hostname()}:${process.pid}`,
    logger,
    drainMs = 30_000,
    ...connection
  } = options;
  checkPositiveInteger('startWorker.threads', threads);
  checkString('startWorker.name', name);
  checkPositiveInteger('startWorker.drainMs', drainMs, 0);
  if (tasks.length === 0) checkString('startWorker.tasks[0]', undefined);
  const local = new Map<string, LocalTask>();
  for (const task of tasks) {
    const identity = identifyTask(taskPath('startWorker', task));
    if (local.has(identity.id)) continue;
    const pool = new WorkerPool<unknown, unknown>(pathToFileURL(identity.path), {
      workers: threads,
      // This process's event loop serves the broker (acks, heartbeats): items run on the threads only.
      headStart: false,
    });
    local.set(identity.id, { identity, pool });
  }
  try {
    await Promise.all([...local.values()].map((task) => task.pool.ready()));
  } catch (error) {
    await Promise.all([...local.values()].map((task) => task.pool.close()));
    throw error;
  }
  let link: Link;
  try {
    link = await openLink(connection, 'worker');
  } catch (error) {
    await Promise.all([...local.values()].map((task) => task.pool.close()));
    throw error;
  }
  const worker = new WorkerProcess(link, local, { name, threads, logger, drainMs });
  await worker.start();
  return worker;
}

class WorkerProcess implements Worker {
  readonly #link: Link;
  readonly #tasks: Map<string, LocalTask>;
  readonly #name: string;
  readonly #id: string;
  readonly #threads: number;
  readonly #logger: Logger | undefined;
  readonly #drainMs: number;
  readonly #startedAt = Date.now();
  readonly #servers = new Map<string, RunServer>();
  /** Run entries found missing: checks in a row, and when the first of them was. */
  readonly #missing = new Map<string, { checks: number; since: number }>();
  #done = 0;
  #failed = 0;
  /** Items answered per second, as (time, done) samples over the rate window. */
  #samples: [number, number][] = [];
  /** Reconciles so far, to sweep streams every few. */
  #ticks = 0;
  /** A heartbeat's announce and reconcile are under way. */
  #ticking = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #progress: NodeJS.Timeout | undefined;
  #watch: { stop(): void } | undefined;
  #closing: Promise<void> | undefined;

  constructor(
    link: Link,
    tasks: Map<string, LocalTask>,
    options: { name: string; threads: number; logger: Logger | undefined; drainMs: number },
  ) {
    this.#link = link;
    this.#tasks = tasks;
    this.#name = options.name;
    this.#id = token(`${options.name}-${hostname()}-${process.pid}`);
    this.#threads = options.threads;
    this.#logger = options.logger;
    this.#drainMs = options.drainMs;
  }

  async start(): Promise<void> {
    await this.#announce();
    // Progress reports three times a second keep messages in hand from being redelivered while
    // this worker lives, whatever a run's ack wait (at least a second).
    this.#progress = setInterval(() => {
      for (const server of this.#servers.values()) server.reportProgress();
    }, PROGRESS_MS);
    const watch = await this.#link.runs.watch();
    this.#watch = watch;
    void (async () => {
      for await (const entry of watch) this.#onRunEntry(entry);
    })().catch(() => {});
    await this.#reconcile();
    // Heartbeats start once the first reconcile is done, so none runs beside it.
    this.#heartbeat = setInterval(() => this.#tick(), HEARTBEAT_MS);
  }

  stats(): WorkerStats {
    const now = Date.now();
    this.#samples.push([now, this.#done]);
    while (this.#samples.length > 2 && (this.#samples[1] as [number, number])[0] <= now - RATE_WINDOW_MS) {
      this.#samples.shift();
    }
    const [since, doneThen] = this.#samples[0] as [number, number];
    const rate = now > since ? ((this.#done - doneThen) * 1000) / (now - since) : 0;
    return {
      name: this.#name,
      id: this.#id,
      host: hostname(),
      pid: process.pid,
      tasks: [...this.#tasks.keys()],
      threads: this.#threads,
      done: this.#done,
      failed: this.#failed,
      rate: Math.round(rate * 10) / 10,
      serving: [...this.#servers.keys()],
      startedAt: this.#startedAt,
      at: now,
    };
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#watch?.stop();
    const servers = [...this.#servers.values()];
    // Progress reports go on while messages in hand drain.
    await Promise.all(servers.map((server) => server.stop(this.#drainMs)));
    clearInterval(this.#progress);
    this.#servers.clear();
    await Promise.all([...this.#tasks.values()].map((task) => task.pool.close()));
    await this.#link.workers.delete(this.#id).catch(() => {});
    await this.#link.nc.drain().catch(() => this.#link.nc.close());
  }

  async #announce(): Promise<void> {
    await this.#link.workers.put(this.#id, JSON.stringify(this.stats())).catch(() => {});
  }

  /** A heartbeat: skipped while the last one still runs (a slow broker must not pile them up). */
  #tick(): void {
    if (this.#closing !== undefined || this.#ticking) return;
    this.#ticking = true;
    void this.#announce()
      .then(() => this.#reconcile())
      .catch(() => {})
      .finally(() => {
        this.#ticking = false;
      });
  }

  /** A put in the runs bucket may be a stage this worker can serve. */
  #onRunEntry(entry: KvWatchEntry): void {
    if (this.#closing !== undefined) return;
    if (entry.operation !== 'PUT') {
      void this.#leave(entry.key, 'the coordinator closed it');
      return;
    }
    let announced: { run?: unknown; stage?: unknown; task?: unknown };
    try {
      announced = entry.json();
    } catch {
      return;
    }
    this.#missing.delete(entry.key);
    const task = typeof announced.task === 'string' ? this.#tasks.get(announced.task) : undefined;
    if (task === undefined || typeof announced.run !== 'string' || typeof announced.stage !== 'string')
      return;
    if (this.#servers.has(entry.key)) return;
    const place = stagePlace(announced.run, announced.stage);
    const server = new RunServer(
      this.#link,
      place,
      task,
      {
        name: this.#name,
        logger: this.#logger,
        answered: (count, failed) => {
          this.#done += count;
          this.#failed += failed;
        },
        lost: (key) => void this.#checkRun(key),
      },
      this.#threads * MESSAGES_PER_THREAD,
    );
    this.#servers.set(entry.key, server);
    this.#logger?.info({ run: place.run, stage: place.stage, task: task.identity.id }, 'serving run stage');
  }

  /**
   * Catches what the watch may have missed (a broker restart): starts serving announced stages.
   * And cleans up after dead coordinators: a stage whose announcement stayed missing for a few
   * checks in a row is left and its streams deleted, whether this worker served it or only saw
   * its streams, so a dead run holds no messages or consumers for long.
   */
  async #reconcile(): Promise<void> {
    const announced = await liveEntries(this.#link.jsm, this.#link.runs, RUNS_BUCKET);
    for (const [key, entry] of announced) {
      if (!this.#servers.has(key)) this.#onRunEntry(entry as unknown as KvWatchEntry);
    }
    // Stages this worker serves, and those already found missing: a stage seen only in the stream
    // sweep is checked on every tick once found, not every fifth, or a dead run that nobody
    // served kept its streams for MISSING_CHECKS sweeps (30 s) past its announcement's expiry.
    const suspects = new Set([...this.#servers.keys(), ...this.#missing.keys()]);
    if (++this.#ticks % STREAM_SWEEP_TICKS === 0) {
      for await (const info of this.#link.jsm.streams.list()) {
        const key = stageKeyOf(info.config.description);
        if (key !== undefined) suspects.add(key);
      }
    }
    for (const key of suspects) {
      if (announced.has(key)) this.#missing.delete(key);
      else await this.#checkRun(key);
    }
  }

  async #checkRun(key: string): Promise<void> {
    const entry = await this.#link.runs.get(key).catch(() => undefined);
    if (entry === undefined) return;
    if (entry !== null && entry.operation === 'PUT') {
      this.#missing.delete(key);
      return;
    }
    const now = Date.now();
    const missing = this.#missing.get(key) ?? { checks: 0, since: now };
    missing.checks++;
    this.#missing.set(key, missing);
    if (missing.checks < MISSING_CHECKS || now - missing.since < MISSING_MS) return;
    this.#missing.delete(key);
    await this.#leave(key, 'its coordinator stopped announcing it');
    const [run, stage] = key.split('.') as [string, string];
    const place = stagePlace(run, stage);
    await this.#link.jsm.streams.delete(place.workStream).catch(() => {});
    await this.#link.jsm.streams.delete(place.resultStream).catch(() => {});
  }

  async #leave(key: string, why: string): Promise<void> {
    const server = this.#servers.get(key);
    if (server === undefined) return;
    this.#servers.delete(key);
    this.#missing.delete(key);
    this.#logger?.info({ key, why }, 'left run stage');
    await server.stop(0);
    await pause(0);
  }
}
