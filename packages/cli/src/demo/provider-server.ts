/**
 * The demo's stand-in for forty vendors' APIs, on one local port: `GET /providers/<name>/assets`
 * with `?cursor=` or `?page=`. Each provider renders its pages on request from the population
 * (nothing is held in memory), answers after its own latency, enforces its own requests-a-second
 * limit with 429 and Retry-After, fails a few requests with 502/503, and one page always fails.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forkModule, moduleBeside, stopChild } from '../fork-module.js';
import { decodeCursor, renderEnvelope, renderRecord } from './formats.js';
import type { Population, Provider } from './population.js';

export interface ProviderServerOptions {
  /** Share of requests answered with a transient 502 or 503. @default 0.02 */
  readonly faultRate?: number;
}

export interface ProviderServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  close(): Promise<void>;
}

const DEFAULT_FAULT_RATE = 0.02;

/** A fixed one-second window per provider: simple, and what many real APIs do. */
class Window {
  #second = 0;
  #count = 0;

  /** True when the request fits in this second's allowance. */
  admit(limit: number, now: number): boolean {
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#count = 0;
    }
    return ++this.#count <= limit;
  }
}

/**
 * The provider service for `population`, in a child process (see provider-process.ts). Its pages
 * are the same as `startProviderServer`'s: both render them from the population's seed.
 */
export async function startProviderProcess(
  population: Population,
  options: ProviderServerOptions = {},
): Promise<ProviderServer> {
  let child: ChildProcess | undefined;
  const args = [
    population.seed,
    population.assets,
    population.providers.length,
    options.faultRate ?? DEFAULT_FAULT_RATE,
  ];
  try {
    const started = await forkModule(
      moduleBeside('provider-process', import.meta.url),
      args.map(String),
      (c) => {
        child = c;
      },
    );
    return { origin: started.firstLine, close: () => stopChild(started.child) };
  } catch (error) {
    if (child !== undefined) await stopChild(child);
    throw error;
  }
}

/** The provider service for `population` on this process's event loop. */
export async function startProviderServer(
  population: Population,
  options: ProviderServerOptions = {},
): Promise<ProviderServer> {
  const faultRate = options.faultRate ?? DEFAULT_FAULT_RATE;
  const byName = new Map(population.providers.map((p) => [p.name, p]));
  const windows = new Map(population.providers.map((p) => [p.name, new Window()]));
  const pending = new Set<NodeJS.Timeout>();

  const answer = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
  };

  const servePage = (res: ServerResponse, provider: Provider, page: number) => {
    if (population.isDeadPage(provider.index, page)) return answer(res, 500, { error: 'internal error' });
    if (Math.random() < faultRate) {
      return Math.random() < 0.5
        ? answer(res, 503, { error: 'unavailable' }, { 'retry-after': '0' })
        : answer(res, 502, { error: 'bad gateway' });
    }
    const records: unknown[] = [];
    for (const device of population.page(provider, page))
      records.push(renderRecord(population, provider, population.device(device)));
    answer(res, 200, renderEnvelope(provider, page, records));
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = /^\/providers\/([^/]+)\/assets$/.exec(url.pathname);
    const provider = match === null ? undefined : byName.get(match[1]!);
    if (provider === undefined) return answer(res, 404, { error: 'no such provider' });
    if (!windows.get(provider.name)!.admit(provider.perSecond, Date.now()))
      return answer(res, 429, { error: 'rate limited' }, { 'retry-after': '1' });
    const cursor = url.searchParams.get('cursor');
    const page =
      provider.paging === 'cursor'
        ? cursor === null
          ? 0
          : decodeCursor(provider, cursor)
        : Number(url.searchParams.get('page') ?? '1') - 1;
    if (page === undefined || !Number.isInteger(page) || page < 0 || page >= provider.pages)
      return answer(res, 400, { error: 'bad page or cursor' });
    const timer = setTimeout(() => {
      pending.delete(timer);
      if (!res.destroyed) servePage(res, provider, page);
    }, provider.latencyMs);
    pending.add(timer);
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    close: async () => {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
