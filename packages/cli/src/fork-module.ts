/**
 * Child processes the CLI starts beside itself (the lab's delay server and load client, the
 * demo's provider service): a module forked with this process's loader flags (so `--import tsx`
 * carries over when the CLI runs from source) that prints one line when it is ready and exits
 * when its parent goes away (the IPC channel closes), even if the parent dies without a word.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The file of a module next to `base` (an `import.meta.url`): `.ts` from source, `.js` compiled. */
export function moduleBeside(name: string, base: string): URL {
  return new URL(`./${name}${extname(fileURLToPath(base))}`, base);
}

/**
 * Forks `module` and resolves with the first line it prints. `track` gets the child at once, so
 * that a caller can stop it even while it is still starting (Ctrl-C).
 */
export async function forkModule(
  module: URL,
  args: readonly string[],
  track: (child: ChildProcess) => void,
): Promise<{ child: ChildProcess; firstLine: string }> {
  const child = fork(fileURLToPath(module), args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  track(child);
  const firstLine = await new Promise<string>((resolve, reject) => {
    let output = '';
    const stdout = child.stdout as NodeJS.ReadableStream;
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!output.includes('\n')) return;
      stdout.off('data', onData);
      child.off('exit', onExit);
      resolve(output.slice(0, output.indexOf('\n')));
    };
    const onExit = (code: number | null): void => {
      stdout.off('data', onData);
      reject(new Error(`${fileURLToPath(module)} exited (code ${code}) before it started`));
    };
    stdout.on('data', onData);
    child.once('exit', onExit);
  });
  return { child, firstLine };
}

/** Closes the IPC channel (the child's cue to exit) and waits for it to go; kills it if it lingers. */
export async function stopChild(child: ChildProcess, graceMs = 2_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  else child.kill();
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
