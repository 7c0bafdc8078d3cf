/**
 * `sluice lab server`: one HTTP server whose handler does CPU work (a sum of squares per request),
 * measured twice under the same load from many concurrent keep-alive clients: computing on the
 * event loop, then through a WorkerPool on other threads. Throughput, p50 and p99 latency for each.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkerPool } from 'sluice';
import { writeBarChart } from './charts.js';
import { forkSibling, openPool } from './resources.js';
import { type LabSession, withSession } from './session.js';
import { sumOfSquares } from './sum-of-squares.js';
import { formatSeconds, formatSpeedup, formatTable, plural } from './table.js';

export interface ServerOptions {
  requests: number;
  clients: number;
  size: number;
  workers: number;
  out: string;
  json: boolean;
}

export interface ServerResult {
  approach: 'event-loop' | 'pool';
  label: string;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Throughput over the event loop's. */
  speedup: number;
}

/** What `sluice lab server --json` prints. */
export interface ServerReport {
  command: 'lab server';
  requests: number;
  clients: number;
  size: number;
  workers: number;
  results: ServerResult[];
  charts: { throughput: string; latency: string };
}

export function runServerLab(options: ServerOptions): Promise<ServerReport> {
  return withSession(async (session) => {
    const { requests, clients, size, workers, json } = options;
    if (!json)
      process.stdout.write(
        `sluice lab server: ${requests} requests from ${clients} concurrent clients, each request computing a sum of i*i for i < ${size.toLocaleString('en-US')}\n`,
      );
    const results: ServerResult[] = [];
    const loop = await underLoad(session, options, async () => String(sumOfSquares(size)));
    results.push({ approach: 'event-loop', label: 'on the event loop', ...loop, speedup: 1 });
    const { pool, close } = await openPool<number, number>(session, 'sum', { workers, isolation: 'thread' });
    const onPool = await underLoad(session, options, async () =>
      String(await (pool as WorkerPool<number, number>).run(size)),
    );
    await close();
    results.push({
      approach: 'pool',
      label: `on a WorkerPool (${plural(workers, 'worker thread')})`,
      ...onPool,
      speedup: onPool.requestsPerSecond / loop.requestsPerSecond,
    });
    const subtitle = `${requests} requests, ${clients} concurrent keep-alive clients on loopback`;
    const charts = {
      throughput: await writeBarChart(options.out, 'lab-server-throughput', {
        title: 'Serving CPU-heavy requests: throughput (higher is better)',
        subtitle,
        unit: 'req/s',
        bars: results.map((r) => ({ label: r.label, value: r.requestsPerSecond, speedup: r.speedup })),
      }),
      latency: await writeBarChart(options.out, 'lab-server-latency', {
        title: 'Serving CPU-heavy requests: latency (lower is better)',
        subtitle,
        unit: 'ms',
        bars: results.flatMap((r) => [
          { label: `${r.label}, p50`, value: r.p50Ms },
          { label: `${r.label}, p99`, value: r.p99Ms },
        ]),
      }),
    };
    const report: ServerReport = { command: 'lab server', requests, clients, size, workers, results, charts };
    if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      process.stdout.write(
        `${formatTable(
          ['handler computes', 'time', 'throughput', 'speed-up', 'p50', 'p99'],
          results.map((r) => [
            r.label,
            formatSeconds(r.seconds),
            `${Math.round(r.requestsPerSecond)} req/s`,
            formatSpeedup(r.speedup),
            `${r.p50Ms.toFixed(1)} ms`,
            `${r.p99Ms.toFixed(1)} ms`,
          ]),
          ['left', 'right', 'right', 'right', 'right', 'right'],
        )}\ncharts: ${charts.throughput}\n        ${charts.latency}\n`,
      );
    }
    return report;
  });
}

/** Serves `handle` on a port-0 loopback server while a client process sends the load. */
async function underLoad(
  session: LabSession,
  options: ServerOptions,
  handle: () => Promise<string>,
): Promise<Omit<ServerResult, 'approach' | 'label' | 'speedup'>> {
  session.check();
  const server = createServer((_req, res) => {
    handle().then(
      (body) => res.writeHead(200, { 'content-type': 'text/plain' }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  server.keepAliveTimeout = 60_000;
  const closeServer = session.defer(() => closeAll(server));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const { firstLine } = await forkSibling(session, 'load-client', [
    url,
    String(options.requests),
    String(options.clients),
  ]);
  await closeServer();
  const { seconds, latenciesMs, failures } = JSON.parse(firstLine) as {
    seconds: number;
    latenciesMs: number[];
    failures: number;
  };
  if (failures > 0) throw new Error(`${failures} of ${options.requests} requests failed`);
  return {
    seconds,
    requestsPerSecond: options.requests / seconds,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
  };
}

/** The value below which `q` of the sorted `values` fall (nearest rank). */
function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

function closeAll(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
