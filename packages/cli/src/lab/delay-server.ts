/**
 * The IO workload's server, run in a child process so that CPU work on the lab's main thread
 * cannot delay its replies. It answers every GET after a fixed delay, with the `n` of its query
 * string (the size of the work an item asks for) as the body, and prints its port on stdout.
 *   node delay-server.js <delayMs>
 * It exits when its parent goes away (the IPC channel closes).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const delayMs = Number(process.argv[2] ?? 0);
const server = createServer((req, res) => {
  const n = new URL(req.url ?? '/', 'http://localhost').searchParams.get('n') ?? '0';
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(n);
  }, delayMs);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
process.on('disconnect', () => process.exit(0));
