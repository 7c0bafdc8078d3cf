import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** Resolves at the child's first output (it says "ready"); rejects if it exits first, instead of waiting for ever. */
export async function childReady(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`a benchmark child process exited (code ${code}) before it was ready`);
  });
  await Promise.race([once(child.stdout as NodeJS.ReadableStream, 'data'), exited]);
  exited.catch(() => {});
}
