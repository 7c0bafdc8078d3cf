/** Opens a stage on a provider the way a flow's cpu() stage does, for tests that drive the Executor directly. */

import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Executor, ExecutorProvider } from 'sluice';

export function openStage<In, Out>(provider: ExecutorProvider, task: URL, stage: string): Executor<In, Out> {
  return provider.open<In, Out>({ url: task.href, path: fileURLToPath(task) }, { stage });
}

export const fixture = (name: string): URL => new URL(`../fixtures/${name}`, import.meta.url);

/** Closes `resource` when the test ends, passed or failed: a failed assertion must not leave a connection holding the process open. */
export function closing<T extends { close(): Promise<unknown> }>(t: TestContext, resource: T): T {
  t.after(() => resource.close());
  return resource;
}
