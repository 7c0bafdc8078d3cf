/**
 * `sluice worker` as a child process of this one, for the commands that start their own workers
 * (`sluice demo --nats --workers-here`, `sluice lab cluster`) and for tests and benchmarks. The
 * child runs this very command (same loader flags, so `--import tsx` carries over) and its JSON
 * log lines are read back as they come.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface WorkerProcessOptions {
  /** Task module paths or file URLs. */
  readonly tasks: readonly (string | URL)[];
  readonly servers: string;
  readonly threads?: number;
  readonly name?: string;
  /** Extra arguments for `sluice worker`: `['--wait', '0']`. */
  readonly args?: readonly string[];
}

/** One parsed log line of the worker. */
export interface WorkerLogLine {
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** Flags of this process that the child needs to load the same code: loaders and export conditions. */
function loaderFlags(): string[] {
  const kept: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const name = flag.split('=')[0] as string;
    if (
      !['--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C'].includes(
        name,
      )
    )
      continue;
    kept.push(flag);
    if (!flag.includes('=') && i + 1 < argv.length) kept.push(argv[++i] as string);
  }
  return kept;
}

/** The command's entry point: bin.ts from source, bin.js when compiled. */
const binPath = fileURLToPath(new URL(`../bin${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

export class WorkerProcess {
  readonly child: ChildProcess;
  /** Every log line so far, parsed. */
  readonly lines: WorkerLogLine[] = [];
  /** What it wrote on stderr: the one-line error when it fails. */
  stderr = '';
  readonly #exited: Promise<number | null>;
  readonly #waiters = new Set<() => void>();

  constructor(options: WorkerProcessOptions) {
    const args = [
      ...loaderFlags(),
      binPath,
      'worker',
      ...options.tasks.map((task) => (task instanceof URL ? fileURLToPath(task) : task)),
      '--nats',
      options.servers,
      ...(options.threads === undefined ? [] : ['--threads', String(options.threads)]),
      ...(options.name === undefined ? [] : ['--name', options.name]),
      ...(options.args ?? []),
    ];
    this.child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as WorkerLogLine);
      } catch {
        this.lines.push({ msg: line });
      }
      for (const wake of this.#waiters) wake();
    });
    this.#exited = once(this.child, 'exit').then(([code]) => {
      for (const wake of this.#waiters) wake();
      return code as number | null;
    });
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Resolves with the first log line whose message matches; rejects if the process exits first. */
  async waitFor(message: string | RegExp): Promise<WorkerLogLine> {
    const matches = (line: WorkerLogLine): boolean =>
      typeof message === 'string' ? line.msg === message : message.test(line.msg);
    for (;;) {
      const found = this.lines.find(matches);
      if (found !== undefined) return found;
      if (this.exited)
        throw new Error(
          `sluice worker exited (${this.child.exitCode ?? this.child.signalCode}) before logging "${message}": ${this.stderr.trim()}`,
        );
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
      });
    }
  }

  /** Resolves once it serves: connected and its pools loaded. */
  started(): Promise<WorkerLogLine> {
    return this.waitFor('worker started');
  }

  /** Sends `signal` (SIGTERM: drain and stop) and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.exited) this.child.kill(signal);
    return this.#exited;
  }

  /** Resolves with the exit code once it has exited. */
  exit(): Promise<number | null> {
    return this.#exited;
  }
}
