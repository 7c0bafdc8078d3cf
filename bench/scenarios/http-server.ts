/**
 * The local HTTP server the HTTP benchmark talks to, in a process of its own so that it does not
 * share the client's event loop. Answers each request with a small JSON body after `delayMs`.
 * Prints its port on the first line of stdout.
 *   node bench/scenarios/http-server.ts [delayMs]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const delayMs = Number(process.argv[2] ?? 0);
const server = createServer((req, res) => {
  const reply = (): void => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(`{"path":"${req.url}"}`);
  };
  if (delayMs > 0) setTimeout(reply, delayMs);
  else reply();
});
server.keepAliveTimeout = 60_000;
server.maxConnections = 20_000;
server.listen(0, '127.0.0.1', () => {
  console.log((server.address() as AddressInfo).port);
});
process.on('disconnect', () => process.exit(0));
