import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { flow } from '../../src/index.js';

let server: Server;
let origin: string;
let inFlight = 0;
let peakInFlight = 0;
let requests = 0;

before(async () => {
  server = createServer((req, res) => {
    requests++;
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    const id = Number(req.url?.slice(1));
    setImmediate(() => {
      inFlight--;
      // Every item divisible by 97 fails the first time it is asked for, with a Retry-After of 0.
      if (id % 97 === 0 && !seen.has(id)) {
        seen.add(id);
        res.writeHead(503, { 'retry-after': '0' }).end();
        return;
      }
      if (id === 1_234) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());
const seen = new Set<number>();

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, unknown>,
  ) {
    super(`HTTP ${status}`);
  }
}

test('thousands of real HTTP requests: bounded in flight, retried, and every item accounted for', async () => {
  const dispatcher = new Agent({ connections: null });
  const dead: number[] = [];
  const total = 3_000;
  const ids = await flow(Array.from({ length: total }, (_, i) => i))
    .map(
      async (id, { signal }) => {
        const { statusCode, headers, body } = await request(`${origin}/${id}`, { dispatcher, signal });
        const text = await body.text();
        if (statusCode !== 200) throw new HttpError(statusCode, headers);
        return (JSON.parse(text) as { id: number }).id;
      },
      {
        name: 'fetch',
        concurrency: 200,
        retry: { attempts: 3, retryable: (e) => (e as HttpError).status !== 404 },
        onError: (id) => {
          dead.push(id);
        },
      },
    )
    .collect();
  await dispatcher.close();
  const expected = Array.from({ length: total }, (_, i) => i).filter((i) => i !== 1_234);
  assert.deepEqual(ids, expected, 'every item but the dead letter, in order');
  assert.deepEqual(dead, [1_234]);
  assert.ok(peakInFlight <= 200, `the server saw ${peakInFlight} requests at once`);
  assert.equal(requests, total + Math.ceil(total / 97), 'one extra request per 503');
});
