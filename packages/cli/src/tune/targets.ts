/**
 * What `sluice tune` sweeps: GET requests to a URL, or a stage of a user's flow, fed with the
 * items that reach it when the flow runs.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StageContext, TuneTarget } from 'sluice';
import { Flow, Sink, tunableStage } from 'sluice';
import { Agent, request } from 'undici';
import { HttpError } from '../http-error.js';

export interface SweepTarget {
  readonly label: string;
  readonly target: TuneTarget<unknown>;
  readonly items: unknown[] | ((i: number) => unknown);
  close(): Promise<void>;
}

/** GETs of `url`, each body read to the end; a status of 400 or more is a failed call. */
export function urlTarget(url: string, timeoutMs: number, connections: number): SweepTarget {
  const dispatcher = new Agent({ connections, keepAliveTimeout: 10_000, pipelining: 1 });
  const get = async (_: unknown, { signal }: StageContext): Promise<number> => {
    const response = await request(url, { dispatcher, signal });
    await response.body.dump();
    if (response.statusCode >= 400) throw new HttpError(response.statusCode, response.headers, url);
    return response.statusCode;
  };
  return {
    label: `GET ${url}`,
    target: { fn: get, options: { timeout: timeoutMs } },
    items: (i) => i,
    close: () => dispatcher.close(),
  };
}

/** Raised for a module that cannot be swept; the command turns it into a usage error. */
export class TuneTargetError extends Error {}

/**
 * A stage of the flow a module exports by default (a Flow, or a function returning one). The
 * stage is fed the first `count` items its upstream produces, and the sweep cycles through them.
 */
export async function moduleTarget(
  path: string,
  stageName: string | undefined,
  count: number,
  signal: AbortSignal,
): Promise<SweepTarget> {
  const file = resolve(path);
  if (!existsSync(file)) throw new TuneTargetError(`no module at ${file}`);
  const exported = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  let made = typeof exported === 'function' ? (exported as (ctx: object) => unknown)({ signal }) : exported;
  // Claimed before any await: a forEach's Sink left alone starts itself on a microtask.
  let stage = made instanceof Flow || made instanceof Sink ? tunableStage(made, stageName) : undefined;
  if (stage === undefined && made instanceof Promise) {
    made = await made;
    if (made instanceof Flow) stage = tunableStage(made, stageName);
  }
  if (stage === undefined) {
    throw new TuneTargetError(
      stageName === undefined
        ? `${path} must export by default a Flow with a map, filter, flatMap, tap or forEach stage`
        : `${path} has no map, filter, flatMap, tap or forEach stage named "${stageName}"`,
    );
  }
  const items: unknown[] = [];
  for await (const item of stage.upstream) {
    items.push(item);
    if (items.length >= count) break; // leaving the loop stops the upstream run
  }
  if (items.length === 0) throw new TuneTargetError(`stage "${stage.name}" of ${path} receives no items`);
  return {
    label: `stage "${stage.name}" of ${path}`,
    target: { fn: stage.fn, options: stage.options },
    items,
    close: async () => undefined,
  };
}
