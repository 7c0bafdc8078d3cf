/**
 * What names a task module on the wire: its name (the file name, as `cpu()` names its stage) and a
 * hash of the file's content. No code travels: a worker runs only the modules it was started with,
 * and the hash makes sure the coordinator and the worker mean the same version of the file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TaskNotFoundError } from 'sluice';

export interface TaskIdentity {
  /** The file name without `.task` and its extension: `normalize` for `normalize.task.js`. */
  readonly name: string;
  /** The first 16 hex digits of the SHA-256 of the file. */
  readonly hash: string;
  /** `name@hash`, as messages carry it. */
  readonly id: string;
  /** The file on disk. */
  readonly path: string;
}

/** The identity of the task module at `path` (a file that exists). */
export function identifyTask(path: string): TaskIdentity {
  const hash = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
  const file = basename(path);
  const name = file.replace(/(\.task)?\.[cm]?[jt]s$/, '') || file;
  return { name, hash, id: `${name}@${hash}`, path };
}

/**
 * The file a task URL or path names. A `.js` name whose file is missing resolves to its `.ts`
 * twin, as sluice's pools do, so `new URL('./x.task.js', import.meta.url)` works from source too.
 */
export function taskPath(owner: string, task: URL | string): string {
  const path = task instanceof URL || task.startsWith('file:') ? fileURLToPath(task) : task;
  if (existsSync(path)) return path;
  const twin = path.replace(/\.([cm]?)js$/, '.$1ts');
  if (twin !== path && existsSync(twin)) return twin;
  throw new TaskNotFoundError(`${owner}: no task module at ${path}`, { path });
}
