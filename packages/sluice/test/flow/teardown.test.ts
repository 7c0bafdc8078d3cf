import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('a failed run leaves nothing behind: the process exits on its own', async () => {
  const fixture = fileURLToPath(new URL('../fixtures/failing-flow.ts', import.meta.url));
  // The fixture arms one-minute timers; if any survived the teardown, the child would outlive the
  // kill timeout below and the call would reject.
  const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture], { timeout: 30_000 });
  assert.equal(stdout.trim(), 'SLUICE_ERR_ABORTED');
});

test('runs that end, completed or failed, leave no timer behind, even when they overlapped', async () => {
  const { flow } = await import('../../src/index.js');
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const slow = flow([1, 2, 3])
    .map(async (x: number) => {
      await new Promise((resolve) => setImmediate(resolve));
      return x;
    })
    .collect();
  const failing = flow([1, 2, 3])
    .map((x: number) => {
      if (x === 2) throw new Error('two');
      return x;
    })
    .collect()
    .catch((error: unknown) => error);
  await Promise.all([slow, failing]);
  assert.equal(timers(), before);
});

/** A connected socket pair on port 0 whose server side writes `greeting`, if given, then nothing: an idle stream source. */
async function idleSocket(greeting?: string): Promise<{ client: Socket; close(): void }> {
  const server = createServer();
  const accepted: Socket[] = [];
  server.on('connection', (socket) => {
    accepted.push(socket);
    if (greeting !== undefined) socket.write(greeting);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await once(client, 'connect');
  return {
    client,
    close: () => {
      for (const socket of accepted) socket.destroy();
      client.destroy();
      server.close();
    },
  };
}

/** Resolves when `ended` does, fails the test when it has not within a second. */
async function within<T>(ended: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} was never released`)), 1000);
  });
  try {
    return await Promise.race([ended, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A web stream that hands out `first` and then waits forever; `cancelled` flips when it is cancelled. */
function idleWebStream(first: number[]): { stream: ReadableStream<number>; cancelled: Promise<unknown> } {
  let onCancel: (reason: unknown) => void = () => undefined;
  const cancelled = new Promise((resolve) => {
    onCancel = resolve;
  });
  const stream = new ReadableStream<number>({
    start(controller) {
      for (const x of first) controller.enqueue(x);
    },
    cancel: (reason) => onCancel(reason ?? 'cancelled'),
  });
  return { stream, cancelled };
}

test('an idle socket source is destroyed when the run is aborted', async () => {
  const { flow } = await import('../../src/index.js');
  const { client, close } = await idleSocket();
  try {
    const controller = new AbortController();
    const running = flow(client)
      .map((chunk: Buffer) => chunk.length)
      .run({ signal: controller.signal });
    controller.abort();
    await assert.rejects(running, { code: 'SLUICE_ERR_ABORTED' });
    await within<unknown>(client.destroyed ? Promise.resolve() : once(client, 'close'), 'the socket');
    assert.equal(client.destroyed, true);
  } finally {
    close();
  }
});

test('an idle socket source is destroyed when a stage fails the run', async () => {
  const { flow } = await import('../../src/index.js');
  const { client, close } = await idleSocket('hello');
  try {
    const failing = flow(client)
      .map((chunk: Buffer) => {
        throw new Error(`cannot parse ${chunk.length} bytes`);
      })
      .run();
    await assert.rejects(failing, { code: 'SLUICE_ERR_STAGE' });
    await within<unknown>(client.destroyed ? Promise.resolve() : once(client, 'close'), 'the socket');
  } finally {
    close();
  }
});

test('an idle web ReadableStream source is cancelled when the run is aborted', async () => {
  const { flow } = await import('../../src/index.js');
  const { stream, cancelled } = idleWebStream([]);
  const controller = new AbortController();
  const running = flow(stream).run({ signal: controller.signal });
  controller.abort();
  await assert.rejects(running, { code: 'SLUICE_ERR_ABORTED' });
  await within(cancelled, 'the web stream');
});

test('an idle web ReadableStream source is cancelled when the consumer leaves for await', async () => {
  const { flow } = await import('../../src/index.js');
  const { stream, cancelled } = idleWebStream([1]);
  for await (const x of flow(stream).map((n: number) => n * 2)) {
    assert.equal(x, 2);
    break;
  }
  await within(cancelled, 'the web stream');
});
