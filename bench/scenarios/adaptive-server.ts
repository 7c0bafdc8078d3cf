/**
 * The server the adaptive benchmarks talk to, in a process of its own on the same cores as the
 * client. Each request waits `delayMs`, then burns `burnUs` of CPU before answering, so past some
 * concurrency the server's CPU, not the wait, sets the pace, and throughput stops growing while
 * latency climbs. With `hidden` > 0 it answers 429 at once to any request above that many in
 * flight, without announcing the limit, and with `retryAfterS` > 0 says `Retry-After: retryAfterS` on it. With HELD_OBJECTS=n in the environment each request
 * holds n small objects until it answers, as a handler holds the rows it works on: past some
 * concurrency the collector's work grows with what is in flight, and throughput falls instead of
 * levelling off. Prints its port on the first line of stdout.
 *   node --import tsx bench/scenarios/adaptive-server.ts <delayMs> <burnUs> [hidden] [retryAfterS]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const delayMs = Number(process.argv[2] ?? 20);
const burnUs = Number(process.argv[3] ?? 0);
const hidden = Number(process.argv[4] ?? 0);
const retryAfterS = Number(process.argv[5] ?? 0);
const heldObjects = Number(process.env.HELD_OBJECTS ?? 0);
let inFlight = 0;

function burn(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until) {
    // Spin: the request's CPU cost.
  }
}

// With TRACE=1 each answer says when the request arrived and how late its timer fired (on the
// shared wall clock, in ms), so the client can tell its own delays from the server's.
const trace = process.env.TRACE === '1';
const wall = (): number => performance.timeOrigin + performance.now();

const server = createServer((_req, res) => {
  const arrived = trace ? wall() : 0;
  if (hidden > 0 && inFlight >= hidden) {
    res.writeHead(429, retryAfterS > 0 ? { 'retry-after': String(retryAfterS) } : {}).end();
    return;
  }
  inFlight++;
  const held =
    heldObjects > 0 ? Array.from({ length: heldObjects }, (_, i) => ({ i, name: `field-${i}` })) : undefined;
  setTimeout(() => {
    burn(burnUs);
    if (held !== undefined && held.length !== heldObjects) throw new Error('lost state');
    inFlight--;
    const stamps = trace ? { 'x-arrived': arrived.toFixed(1), 'x-answered': wall().toFixed(1) } : {};
    res.writeHead(200, { 'content-type': 'text/plain', ...stamps }).end('ok');
  }, delayMs);
});
server.keepAliveTimeout = 60_000;
server.maxConnections = 20_000;
server.listen(0, '127.0.0.1', () => {
  console.log((server.address() as AddressInfo).port);
});
process.on('disconnect', () => process.exit(0));
