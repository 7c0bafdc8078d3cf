/**
 * N requests to a local HTTP server (a separate process) at concurrency C, through one map step.
 * Checks that nothing fails (no EMFILE, no reset) and that every item is accounted for.
 *   node --import tsx bench/scenarios/http.ts <contender> [requests] [concurrency]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import pMap from 'p-map';
import { flow } from 'sluice';
import { Agent, request } from 'undici';

const [contender = 'sluice-flow', requestsArg = '100000', concurrencyArg = '5000'] = process.argv.slice(2);
const requests = Number(requestsArg);
const concurrency = Number(concurrencyArg);

const server = fork(fileURLToPath(new URL('./http-server.ts', import.meta.url)), ['0'], {
  stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  execArgv: ['--import', 'tsx'],
});
const [firstChunk] = (await once(server.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
const origin = `http://127.0.0.1:${Number(firstChunk.toString().trim())}`;
const dispatcher = new Agent({ connections: null, keepAliveTimeout: 30_000 });

const errors = new Map<string, number>();
async function get(i: number): Promise<number> {
  const { statusCode, body } = await request(`${origin}/${i}`, { dispatcher });
  await body.text();
  if (statusCode !== 200) throw new Error(`HTTP ${statusCode}`);
  return statusCode;
}

const contenders: Record<string, () => Promise<{ ok: number; accounted: boolean }>> = {
  'sluice-flow': async () => {
    const report = await flow(Array.from({ length: requests }, (_, i) => i))
      .map(get, {
        concurrency,
        onError: (_item, error) => {
          const code = (error as { code?: string }).code ?? (error as Error).message;
          errors.set(code, (errors.get(code) ?? 0) + 1);
        },
      })
      .run();
    const stage = report.stages[0];
    const settled = (stage?.emitted ?? 0) + (stage?.deadLettered ?? 0);
    return { ok: stage?.emitted ?? 0, accounted: settled === requests && stage?.entered === requests };
  },
  'p-map': async () => {
    let ok = 0;
    await pMap(
      Array.from({ length: requests }, (_, i) => i),
      async (i) => {
        try {
          await get(i);
          ok++;
        } catch (error) {
          const code = (error as { code?: string }).code ?? (error as Error).message;
          errors.set(code, (errors.get(code) ?? 0) + 1);
        }
      },
      { concurrency },
    );
    return { ok, accounted: ok + [...errors.values()].reduce((a, b) => a + b, 0) === requests };
  },
};

const run = contenders[contender];
if (run === undefined) throw new Error(`unknown contender ${contender}`);
const started = performance.now();
const { ok, accounted } = await run();
const seconds = (performance.now() - started) / 1000;
await dispatcher.close();
server.disconnect();
console.log(
  JSON.stringify({
    contender,
    items: requests,
    concurrency,
    seconds,
    itemsPerSecond: requests / seconds,
    ok,
    errors: Object.fromEntries(errors),
    accounted,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
