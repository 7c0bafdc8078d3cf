/**
 * Where a task module lives and what a worker needs to load it. Task files may be written in
 * TypeScript: an application run under tsx refers to `./normalize.task.js` (the name the compiled
 * file will have) while the file on disk is still `normalize.task.ts`. Both must work, and a
 * worker must get the TypeScript loader when either the task or sluice itself is TypeScript.
 */
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TaskNotFoundError } from '../../core/errors.js';
import { missingPeer } from '../../core/peer.js';
import { invalidType } from '../../core/validate.js';
import type { ResolvedTask } from '../executor.js';

/** A task module resolved to a file that exists: the Executor contract's `ResolvedTask`. */
export type TaskModule = ResolvedTask;

const typescriptTwins: Record<string, string> = { '.js': '.ts', '.mjs': '.mts', '.cjs': '.cts' };
const typescriptExtensions = new Set(['.ts', '.mts', '.cts', '.tsx']);

/** Resolves a task module reference, throwing a coded error naming `owner` when there is no such file. */
export function resolveTaskModule(owner: string, reference: unknown): TaskModule {
  let url: URL;
  if (reference instanceof URL) url = reference;
  else if (typeof reference === 'string' && reference.startsWith('file:')) url = new URL(reference);
  else if (typeof reference === 'string' && reference !== '') url = pathToFileURL(reference);
  else throw invalidType(`${owner} task module`, 'a file URL or an absolute path', reference);
  if (url.protocol !== 'file:') throw invalidType(`${owner} task module`, 'a file: URL', url.href);
  const path = fileURLToPath(url);
  if (fileExists(path)) return { url: url.href, path };
  const twin = typescriptTwins[extname(path)];
  const twinPath = twin === undefined ? undefined : path.slice(0, -extname(path).length) + twin;
  if (twinPath !== undefined && fileExists(twinPath)) return { url: url.href, path: twinPath };
  throw new TaskNotFoundError(
    `${owner}: the task module ${path} does not exist${twinPath === undefined ? '' : ` (nor ${twinPath})`}`,
    { path },
  );
}

export function isTypeScript(path: string): boolean {
  return typescriptExtensions.has(extname(path));
}

/** The file workers start, next to this one: `.ts` when sluice runs from source. */
export const runtimeUrl = new URL(
  `./worker-entry${extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);
export const runtimeIsTypeScript = isTypeScript(fileURLToPath(runtimeUrl));

const loaders = new Map<string, string | null>();

export type TypeScriptEntry = 'tsx' | 'tsx/esm/api' | 'tsx/cjs/api';

/**
 * The URL of a tsx entry point: `tsx/esm/api` and `tsx/cjs/api`, whose `register()` a worker
 * thread calls before importing TypeScript (on Node 20 a thread inherits neither the parent's
 * `--import tsx` hooks nor runs tsx's own entry, which skips worker threads), or `tsx`, given to
 * a child process as `--import`. Null when tsx cannot be found: the worker relies on what the
 * process started with.
 */
export function typescriptLoader(entry: TypeScriptEntry): string | null {
  const known = loaders.get(entry);
  if (known !== undefined) return known;
  let found: string | null = null;
  try {
    // The import condition's file: tsx's CommonJS build of its API cannot register from a thread.
    found = import.meta.resolve(entry);
  } catch {
    try {
      // An application's own tsx, when sluice is installed where tsx is not reachable from it.
      const required = createRequire(join(process.cwd(), 'noop.js')).resolve(entry);
      const esm = required.replace(/\.cjs$/, '.mjs');
      found = pathToFileURL(fileExists(esm) ? esm : required).href;
    } catch {
      found = null;
    }
  }
  loaders.set(entry, found);
  return found;
}

/**
 * Throws SLUICE_ERR_MISSING_PEER, naming tsx, when workers would need it to load a TypeScript task
 * module and it cannot be found, unless the process already runs under a TypeScript loader of its
 * own. Called when a pool opens, so the stage fails at its start, not with every worker dying
 * on an error about a file extension.
 */
export function checkTypeScriptPeer(task: TaskModule, entry: 'tsx' | 'tsx/esm/api'): void {
  if (!isTypeScript(task.path) || typescriptLoader(entry) !== null || underTypeScriptLoader()) return;
  throw missingPeer('tsx', `The TypeScript task module ${task.path}`);
}

/** Whether this process loads TypeScript already: sluice itself from source, a loader flag, or Node's own. */
function underTypeScriptLoader(): boolean {
  if (runtimeIsTypeScript) return true;
  if ((process.features as { typescript?: unknown }).typescript) return true;
  // Flags only: `node -e '...'` puts its script in execArgv too, and a script may mention tsx.
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return args.some((arg, i) => {
    if (/^--experimental-(strip|transform)-types$/.test(arg)) return true;
    const flag = /^(--import|--loader|--experimental-loader|--require|-r)(=|$)/.exec(arg);
    if (flag === null) return false;
    const value = flag[2] === '=' ? arg.slice(flag[0].length) : (args[i + 1] ?? '');
    return /tsx|ts-node/.test(value);
  });
}

/**
 * node:fs loaded when needed, not imported: an ES import of node:fs makes Node build its ES module
 * facade, which loads node:stream for the fs stream classes, about 2.5 ms of every program that
 * imports sluice.
 */
function fileExists(path: string): boolean {
  return process.getBuiltinModule('node:fs').existsSync(path);
}
