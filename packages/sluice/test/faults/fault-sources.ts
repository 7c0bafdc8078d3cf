/**
 * What the fault suite's flows read from and run on: the sources of every kind a case can name
 * (failing part-way or left idle when it says so), a real TCP server for socket sources, and the
 * one-worker pool cpu() stages share.
 */
import { connect, createServer, type Server } from 'node:net';
import { pipeline, Readable, Transform } from 'node:stream';
import { setImmediate as turn } from 'node:timers/promises';
import { WorkerPool } from '../../src/index.js';
import type { FaultCase } from './fault-cases.js';

export const TASK = new URL('../fixtures/tasks/fault.task.ts', import.meta.url);

/** Shared by the cases: a one-worker pool (restarting a worker costs a few hundred ms) and a TCP server. */
export class FaultBench {
  readonly pool = new WorkerPool<number, number>(TASK, { workers: 1, maxCrashRetries: 0 });
  readonly #server: Server;
  /** What the server sends each new connection, and whether it then stays open. */
  #next: { values: readonly number[]; idle: boolean } = { values: [], idle: false };

  private constructor(server: Server) {
    this.#server = server;
  }

  static async open(): Promise<FaultBench> {
    const server = createServer({ allowHalfOpen: false });
    const bench = new FaultBench(server);
    server.on('connection', (socket) => {
      const { values, idle } = bench.#next;
      socket.on('error', () => undefined);
      socket.write(values.map((v) => `${v}\n`).join(''));
      if (!idle) socket.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    server.unref();
    return bench;
  }

  /** A Node Readable of numbers, one per line read from a real socket. */
  async socketSource(values: readonly number[], idle: boolean): Promise<Readable> {
    this.#next = { values, idle };
    const address = this.#server.address() as { port: number };
    const socket = connect(address.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    let rest = '';
    const lines = new Transform({
      readableObjectMode: true,
      transform(chunk: Buffer, _encoding, done) {
        const text = rest + chunk.toString();
        const parts = text.split('\n');
        rest = parts.pop() ?? '';
        for (const part of parts) this.push(Number(part));
        done();
      },
    });
    // Destroying the line reader (as a run that stops does) destroys the socket with it.
    return pipeline(socket, lines, () => undefined);
  }

  async close(): Promise<void> {
    await this.pool.close();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

export async function sourceOf(
  c: FaultCase,
  bench: FaultBench,
): Promise<Iterable<number> | AsyncIterable<number>> {
  const { values, sourceFailsAt, idle } = c;
  const failAt = sourceFailsAt ?? Number.POSITIVE_INFINITY;
  switch (c.source) {
    case 'array':
      return [...values];
    case 'generator':
      return (function* () {
        yield* values;
      })();
    case 'async-generator':
      return (async function* () {
        for (const [i, v] of values.entries()) {
          if (i === failAt) throw new Error('fault: the source fails');
          await turn();
          yield v;
        }
        if (failAt <= values.length) throw new Error('fault: the source fails');
        if (idle) await new Promise<never>(() => undefined);
      })();
    case 'readable': {
      let i = 0;
      return new Readable({
        objectMode: true,
        read() {
          setImmediate(() => {
            if (i === failAt) this.destroy(new Error('fault: the source fails'));
            else if (i < values.length) this.push(values[i++]);
            else if (!idle) this.push(null);
          });
        },
      });
    }
    case 'web-stream': {
      let i = 0;
      return new ReadableStream<number>({
        pull: async (controller) => {
          await turn();
          if (i === failAt) controller.error(new Error('fault: the source fails'));
          else if (i < values.length) controller.enqueue(values[i++] as number);
          else if (!idle) controller.close();
          // Idle: the pull never ends, so the stream never asks again; only a cancel gets past it.
          else await new Promise<never>(() => undefined);
        },
      }) as unknown as AsyncIterable<number>;
    }
    case 'socket':
      return bench.socketSource(failAt < values.length ? values.slice(0, failAt) : values, idle);
  }
}
