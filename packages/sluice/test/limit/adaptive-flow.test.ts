import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { flow } from '../../src/index.js';

/** The server answers 429, at once, to any request above this many in flight; it does not say so. */
const HIDDEN_LIMIT = 40;
let server: Server;
let origin: string;
let inFlight = 0;
let rejected = 0;
let served = 0;
const dispatcher = new Agent({ connections: null });

before(async () => {
  server = createServer((_req, res) => {
    if (inFlight >= HIDDEN_LIMIT) {
      rejected++;
      res.writeHead(429).end();
      return;
    }
    inFlight++;
    setTimeout(() => {
      inFlight--;
      served++;
      res.writeHead(200).end('ok');
    }, 20);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await dispatcher.close();
  server.close();
});

async function get(id: number): Promise<string> {
  const { statusCode, body } = await request(`${origin}/${id}`, { dispatcher });
  const text = await body.text();
  if (statusCode !== 200) throw Object.assign(new Error(`HTTP ${statusCode}`), { statusCode });
  return text;
}

test("concurrency: 'adaptive' completes every item against a server that rejects above a hidden limit, and settles below it", async () => {
  const items = Array.from({ length: 3_000 }, (_, i) => i);
  const report = await flow(items)
    .map(get, { concurrency: 'adaptive', retry: { attempts: 100, baseDelayMs: 5, maxDelayMs: 50 } })
    .run();
  const stage = report.stages[0];
  assert.equal(stage?.emitted, 3_000);
  assert.equal(served, 3_000);
  assert.equal(stage?.retries, rejected);
  assert.ok(rejected > 0, 'the limit probed past the hidden one at least once');
  assert.ok((stage?.limit?.total.final ?? 0) <= HIDDEN_LIMIT, `final limit ${stage?.limit?.total.final}`);
  assert.ok((stage?.limit?.total.drops ?? 0) > 0);
});
