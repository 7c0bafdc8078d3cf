/** Opens a stage on a provider the way a flow's cpu() stage does, for tests that drive the Executor directly. */
import { fileURLToPath } from 'node:url';
import type { Executor, ExecutorProvider } from 'sluice';

export function openStage<In, Out>(provider: ExecutorProvider, task: URL, stage: string): Executor<In, Out> {
  return provider.open<In, Out>({ url: task.href, path: fileURLToPath(task) }, { stage });
}

export const fixture = (name: string): URL => new URL(`../fixtures/${name}`, import.meta.url);
