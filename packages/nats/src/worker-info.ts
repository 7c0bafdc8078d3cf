/**
 * What a worker announces about itself in the workers bucket, refreshed every couple of seconds;
 * an entry that is not refreshed expires with the bucket's TTL, so the bucket lists live workers.
 */
import { liveEntries } from './bucket-entries.js';
import type { Link } from './link.js';
import { WORKERS_BUCKET } from './names.js';

export interface WorkerInfo {
  /** The name it was started with (`--name`), or host and pid. */
  readonly name: string;
  /** Unique per process: the key of its entry. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  /** The task modules it serves, as `name@hash`. */
  readonly tasks: readonly string[];
  /** Threads its local pools run. */
  readonly threads: number;
  /** Items it answered, all runs together. */
  readonly done: number;
  /** Of those, items that failed. */
  readonly failed: number;
  /** Items answered per second over the last few seconds. */
  readonly rate: number;
  /** Run stages it is serving now, as `<run>.<stage>`. */
  readonly serving: readonly string[];
  /** When it started, in ms since the epoch. */
  readonly startedAt: number;
  /** When this entry was written, in ms since the epoch (the worker's clock). */
  readonly at: number;
}

/** Every worker whose announcement has not expired. */
export async function liveWorkers(link: Pick<Link, 'jsm' | 'workers'>): Promise<WorkerInfo[]> {
  const workers: WorkerInfo[] = [];
  for (const entry of (await liveEntries(link.jsm, link.workers, WORKERS_BUCKET)).values()) {
    try {
      workers.push(JSON.parse(entry.string()) as WorkerInfo);
    } catch {
      // Not ours: skip it.
    }
  }
  return workers.sort((a, b) => a.name.localeCompare(b.name));
}
