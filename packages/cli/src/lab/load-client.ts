/**
 * The load generator of `sluice lab server`, in a child process so that it does not share the
 * server's event loop: `clients` keep-alive connections, each sending its next request as soon as
 * the last one is answered, until `requests` have been answered. Prints one JSON line:
 * { seconds, latenciesMs (sorted), failures }.
 *   node load-client.js <url> <requests> <clients>
 */
import { Agent } from 'node:http';
import { httpGet } from './http-get.js';

const [url = '', requestsArg = '0', clientsArg = '1'] = process.argv.slice(2);
const requests = Number(requestsArg);
const clients = Math.min(Number(clientsArg), requests);
const agent = new Agent({ keepAlive: true, maxSockets: clients });

async function load(total: number): Promise<{ latencies: number[]; failures: number }> {
  const latencies: number[] = [];
  let failures = 0;
  let started = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (started < total) {
        started++;
        const t = performance.now();
        try {
          await httpGet(url, agent);
          latencies.push(performance.now() - t);
        } catch {
          failures++;
        }
      }
    }),
  );
  return { latencies, failures };
}

// Untimed: open every connection and let both sides' JIT see the path.
await load(clients * 2);
const started = performance.now();
const { latencies, failures } = await load(requests);
const seconds = (performance.now() - started) / 1000;
agent.destroy();
process.stdout.write(
  `${JSON.stringify({ seconds, latenciesMs: latencies.sort((a, b) => a - b), failures })}\n`,
);
process.disconnect?.();
