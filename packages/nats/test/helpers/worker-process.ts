/**
 * Workers as real child processes, for tests that SIGKILL them: each runs
 * `fixtures/worker-main.ts` and says "ready" on stdout once it serves.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../fixtures/worker-main.ts', import.meta.url));

export interface ChildWorker {
  readonly child: ChildProcess;
  readonly name: string;
  /** SIGKILLs it by PID and waits for it to exit. */
  kill(): Promise<void>;
  /** SIGTERM: it drains and exits. */
  stop(): Promise<void>;
}

export async function spawnWorker(
  servers: string,
  task: URL,
  name: string,
  threads = 1,
): Promise<ChildWorker> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=sluice-source',
      '--import',
      'tsx',
      main,
      servers,
      fileURLToPath(task),
      name,
      String(threads),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = once(child, 'exit');
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker ${name} exited (${code}) before it was ready`)));
  });
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    name,
    async kill() {
      if (ended()) return;
      process.kill(child.pid as number, 'SIGKILL');
      await exited;
    },
    async stop() {
      if (ended()) return;
      process.kill(child.pid as number, 'SIGTERM');
      await exited;
    },
  };
}
