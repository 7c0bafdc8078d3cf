/**
 * Opening what the lab measures against, each registered with the session so that it is closed
 * at the end or on Ctrl-C: the delay server's child process, worker pools, keep-alive agents.
 */
import type { ChildProcess } from 'node:child_process';
import { Agent } from 'node:http';
import type { Isolation } from 'sluice';
import { type CpuTask, cpu, WorkerPool } from 'sluice';
import { forkModule, moduleBeside } from '../fork-module.js';
import type { Approach } from './measure.js';
import type { LabSession } from './session.js';

/** The file of a lab module, by name: `.ts` when sluice runs from source, `.js` when compiled. */
export function siblingUrl(name: string): URL {
  return moduleBeside(name, import.meta.url);
}

/** A lab task module, by name: `taskUrl('sum')` is tasks/sum.task.ts (or .js). */
export function taskUrl(name: string): URL {
  return siblingUrl(`tasks/${name}.task`);
}

/** Forks a lab module (see `forkModule`), stopped when the session closes; resolves with its first line. */
export function forkSibling(
  session: LabSession,
  name: string,
  args: readonly string[],
): Promise<{ child: ChildProcess; firstLine: string }> {
  return forkModule(siblingUrl(name), args, (child) =>
    session.defer(() => {
      if (child.connected) child.disconnect();
      if (child.exitCode === null && child.signalCode === null) child.kill();
    }),
  );
}

/** Starts the delay server in a child process; resolves with its origin. */
export async function startDelayServer(session: LabSession, delayMs: number): Promise<string> {
  const { firstLine } = await forkSibling(session, 'delay-server', [String(delayMs)]);
  return `http://127.0.0.1:${Number(firstLine)}`;
}

/** A keep-alive agent with `sockets` connections at most, destroyed when the session closes. */
export function openAgent(session: LabSession, sockets: number): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  session.defer(() => agent.destroy());
  return agent;
}

/**
 * A worker pool for a lab task module, every worker started and loaded before it is returned, so
 * that start-up is not counted in the timings. `close` ends it early, when its approach is done.
 */
export async function openPool<In, Out>(
  session: LabSession,
  task: string,
  options: { workers: number; isolation: Isolation },
): Promise<{ pool: WorkerPool<In, Out>; close: () => Promise<void> }> {
  const pool = new WorkerPool<In, Out>(taskUrl(task), options);
  const close = session.defer(() => pool.close());
  await pool.ready();
  return { pool, close };
}

export interface PoolSpec<In> {
  /** The task module's name under tasks/: `'sum'` for tasks/sum.task.ts. */
  task: string;
  workers: number;
  isolation: Isolation;
  /** Run a few times on every worker before the clock starts, so the JIT has seen the task. */
  warmItem?: In;
}

/**
 * An approach on a pool of its own: the pool is opened (and warmed) before the clock starts and
 * closed after it stops; `run` gets it as a cpu() stage.
 */
export function poolApproach<In, Out, R>(
  session: LabSession,
  spec: PoolSpec<In>,
  approach: string,
  label: string,
  run: (stage: CpuTask<In, Out>) => Promise<R>,
): Approach<R> {
  let opened: { pool: WorkerPool<In, Out>; close: () => Promise<void> } | undefined;
  return {
    approach,
    label,
    prepare: async () => {
      opened = await openPool<In, Out>(session, spec.task, {
        workers: spec.workers,
        isolation: spec.isolation,
      });
      const { pool } = opened;
      const { warmItem } = spec;
      if (warmItem !== undefined)
        await Promise.all(Array.from({ length: spec.workers * 2 }, () => pool.run(warmItem)));
    },
    run: () => run(cpu<In, Out>(taskUrl(spec.task), { pool: opened?.pool })),
    finish: () => opened?.close() ?? Promise.resolve(),
  };
}
