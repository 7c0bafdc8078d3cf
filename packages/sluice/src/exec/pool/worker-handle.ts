/**
 * One worker as the pool sees it, whatever it runs in: a worker thread (the default: cheap to
 * start, shares the process, can move buffers), a child process (`isolation: 'process'`: for
 * code that is not thread-safe, or that must be killable hard), or the calling thread itself (the
 * in-process executor, inline-worker.ts). All speak the same protocol to the same runtime; a
 * handle reports exactly one exit, with an error saying why.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ResourceLimits, TransferListItem, Worker } from 'node:worker_threads';
import {
  CONTROL_BYTES,
  type ControlViews,
  controlViews,
  type FromWorker,
  type ToWorker,
  type WorkerInit,
} from './protocol.js';
import {
  isTypeScript,
  runtimeIsTypeScript,
  runtimeUrl,
  type TaskModule,
  type TypeScriptEntry,
  typescriptLoader,
} from './task-module.js';

export type Isolation = 'thread' | 'process';
/** What a worker runs in: `inline` is the in-process executor's, on the calling thread. */
export type WorkerKind = Isolation | 'inline';

export interface WorkerEvents {
  message(message: FromWorker): void;
  /** The worker is gone: `reason` says how (exit code, uncaught error, out of memory). */
  exit(reason: Error): void;
}

export interface WorkerHandle {
  readonly isolation: WorkerKind;
  /** Thread workers only: the control block they publish into. */
  readonly control: ControlViews | undefined;
  /** Throws synchronously when a value cannot be cloned. */
  post(message: ToWorker, transfer: readonly TransferListItem[]): void;
  /** Lets the process exit while this worker is idle. */
  setKeepAlive(keepAlive: boolean): void;
  terminate(): Promise<void>;
}

export interface SpawnOptions {
  readonly isolation: WorkerKind;
  readonly task: TaskModule;
  readonly resourceLimits: ResourceLimits | undefined;
}

/** A worker thread or a child process; the in-process kind is made by inline-worker.ts. */
export function spawnWorker(
  options: SpawnOptions & { isolation: Isolation },
  events: WorkerEvents,
): WorkerHandle {
  return options.isolation === 'process'
    ? new ProcessWorker(options, events)
    : new ThreadWorker(options, events);
}

/**
 * Registers the TypeScript loader (when needed) before importing the runtime: tsx's import hooks,
 * and its require hooks too, without which a TypeScript task in a package that is not
 * `"type": "module"` (most TypeScript projects) failed to load on a thread with
 * ERR_REQUIRE_CYCLE_MODULE, as tsx hands such a file to require().
 */
const bootstrap = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.loader) (await import(workerData.loader)).register();
  if (workerData.requireLoader) (await import(workerData.requireLoader)).register();
  await import(workerData.runtime);
})().catch((error) => setImmediate(() => { throw error; }));
`;

/** Flags that only say what the main entry point is; each one with a separate value takes it. */
const entryFlags = new Map([
  ['-e', true],
  ['--eval', true],
  ['-p', true],
  ['--print', true],
  ['--input-type', true],
  ['-i', false],
  ['--interactive', false],
  ['-c', false],
  ['--check', false],
]);

/**
 * The parent's flags without those that describe its own entry point: a worker inheriting
 * `--input-type=module` from `node --input-type=module -e '...'` refuses to load its runtime
 * file, and a child process would run the parent's `-e` script instead of the runtime.
 * Undefined when there is nothing to drop, so a thread keeps Node's own inheritance.
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv): string[] | undefined {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    const name = arg.split('=', 1)[0] as string;
    const takesValue = entryFlags.get(name);
    if (takesValue === undefined) kept.push(arg);
    else if (takesValue && !arg.includes('=')) i++;
  }
  return kept.length === execArgv.length ? undefined : kept;
}

function needsLoader(task: TaskModule, entry: TypeScriptEntry): string | undefined {
  return runtimeIsTypeScript || isTypeScript(task.path) ? (typescriptLoader(entry) ?? undefined) : undefined;
}

class ThreadWorker implements WorkerHandle {
  readonly isolation = 'thread';
  readonly control: ControlViews;
  readonly #worker: Worker;
  #exited = false;

  constructor(options: SpawnOptions, events: WorkerEvents) {
    const buffer = new SharedArrayBuffer(CONTROL_BYTES);
    this.control = controlViews(buffer);
    const init: WorkerInit = { taskUrl: options.task.url, control: buffer };
    const loader = needsLoader(options.task, 'tsx/esm/api');
    const execArgv = workerExecArgv();
    const common = {
      resourceLimits: options.resourceLimits,
      stdout: false,
      stderr: false,
      ...(execArgv === undefined ? {} : { execArgv }),
    };
    // Loaded here, not imported: node:worker_threads costs every program that imports sluice
    // about 2 ms, and only a pool that starts a worker needs it.
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    this.#worker =
      loader === undefined
        ? new Worker(runtimeUrl, { ...common, workerData: init })
        : new Worker(bootstrap, {
            ...common,
            eval: true,
            workerData: {
              ...init,
              loader,
              requireLoader: typescriptLoader('tsx/cjs/api') ?? undefined,
              runtime: runtimeUrl.href,
            },
          });
    let failure: Error | undefined;
    this.#worker.on('message', (message: FromWorker) => events.message(message));
    // An uncaught error (or running out of memory) comes first, then the exit: report them as one.
    this.#worker.on('error', (error) => {
      failure ??= error;
    });
    this.#worker.on('exit', (code) => {
      this.#exited = true;
      events.exit(
        failure ??
          new Error(code === 0 ? 'The worker thread exited' : `The worker thread exited with code ${code}`),
      );
    });
  }

  post(message: ToWorker, transfer: readonly TransferListItem[]): void {
    this.#worker.postMessage(message, transfer as TransferListItem[]);
  }

  setKeepAlive(keepAlive: boolean): void {
    if (keepAlive) this.#worker.ref();
    else this.#worker.unref();
  }

  async terminate(): Promise<void> {
    if (this.#exited) return;
    await this.#worker.terminate();
  }
}

class ProcessWorker implements WorkerHandle {
  readonly isolation = 'process';
  readonly control = undefined;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  constructor(options: SpawnOptions, events: WorkerEvents) {
    const loader = needsLoader(options.task, 'tsx');
    const inherited = workerExecArgv() ?? process.execArgv;
    const execArgv =
      loader === undefined || inherited.some((arg) => arg.includes('tsx'))
        ? inherited
        : [...inherited, '--import', loader];
    // Loaded here, not imported: node:child_process costs every program that imports sluice about
    // 2.5 ms, and only process workers need it.
    const { fork } = process.getBuiltinModule('node:child_process');
    this.#child = fork(fileURLToPath(runtimeUrl), [], {
      serialization: 'advanced',
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const init: WorkerInit = { taskUrl: options.task.url, control: undefined };
    this.#child.send(init);
    this.#child.on('message', (message: FromWorker) => events.message(message));
    let failure: Error | undefined;
    this.#child.on('error', (error) => {
      failure ??= error;
    });
    this.#exited = new Promise((resolve) => {
      this.#child.on('exit', (code, signal) => {
        resolve();
        events.exit(
          failure ??
            new Error(
              signal === null
                ? `The worker process exited with code ${code}`
                : `The worker process was killed by ${signal}`,
            ),
        );
      });
    });
  }

  post(message: ToWorker): void {
    this.#child.send(message);
  }

  setKeepAlive(keepAlive: boolean): void {
    // The IPC channel is what keeps the parent alive; the child itself is always unref'd.
    const channel = (this.#child as unknown as { channel?: { ref(): void; unref(): void } }).channel;
    if (keepAlive) {
      this.#child.ref();
      channel?.ref();
    } else {
      this.#child.unref();
      channel?.unref();
    }
  }

  async terminate(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    // Whoever awaits the termination must see it: hold the process open until the exit arrives.
    this.#child.ref();
    this.#child.kill('SIGKILL');
    await this.#exited;
  }
}
