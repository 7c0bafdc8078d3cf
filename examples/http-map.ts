/**
 * The smallest real job: stream item ids through a bounded, retried, rate-aware map that fetches
 * each one from an HTTP server, and print what happened. The server is local (port 0) and fails
 * now and then, so the retries and the report have something to show.
 *
 *   npm run example            # 2,000 items
 *   npm run example -- 20000   # more
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { flow } from 'sluice';
import { Agent, request } from 'undici';

const total = Number(process.argv[2] ?? 2_000);

// A flaky JSON service: answers after 5-25 ms, and one request in 50 gets a 503 with Retry-After: 0.
let served = 0;
const server = createServer((req, res) => {
  served++;
  const id = Number(req.url?.slice(1));
  setTimeout(
    () => {
      if (served % 50 === 0) {
        res.writeHead(503, { 'retry-after': '0' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, square: id * id }));
    },
    5 + (id % 21),
  );
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// An HttpError carries the response headers, so a Retry-After reaches sluice's retry policy.
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, unknown>,
  ) {
    super(`HTTP ${status}`);
  }
}

const dispatcher = new Agent({ connections: 64 });
async function fetchRecord(
  id: number,
  { signal }: { signal: AbortSignal },
): Promise<{ id: number; square: number }> {
  const { statusCode, headers, body } = await request(`${base}/${id}`, { dispatcher, signal });
  if (statusCode !== 200) {
    await body.dump();
    throw new HttpError(statusCode, headers);
  }
  return (await body.json()) as { id: number; square: number };
}

const ids = Array.from({ length: total }, (_, i) => i);
let sum = 0;
const started = performance.now();
const report = await flow(ids)
  .map(fetchRecord, { concurrency: 64, retry: { attempts: 4, baseDelayMs: 20 }, timeout: 5_000 })
  .filter((record) => record.id % 10 !== 0, { name: 'drop-tenths' })
  .batch({ size: 100, maxWaitMs: 50 })
  .forEach(
    (batch) => {
      for (const record of batch) sum += record.square;
    },
    { name: 'sum-batch' },
  )
  .run();
const seconds = (performance.now() - started) / 1000;
await dispatcher.close();
server.close();

console.log(`fetched ${total} records in ${seconds.toFixed(2)} s (${Math.round(total / seconds)} items/s)`);
console.log(`sum of squares kept: ${sum}`);
console.log('per stage:');
for (const s of report.stages) {
  console.log(
    `  ${s.name.padEnd(12)} entered ${String(s.entered).padStart(6)}  emitted ${String(s.emitted).padStart(6)}  ` +
      `filtered ${String(s.filtered).padStart(5)}  retries ${String(s.retries).padStart(3)}  outputs ${s.outputs}`,
  );
}
