/**
 * The floor under any JetStream work queue: a batched publish, consume and reply loop written
 * directly with @nats-io/jetstream, no sluice. The producer publishes messages of `perMessage`
 * numbers to a work-queue stream, at most `window` messages unanswered; `consumers` child
 * processes pull them from one durable consumer, answer each item (a no-op: the number itself)
 * with one core-NATS reply per message, then ack. Done when every item has its answer.
 *
 *   node --import tsx bench/scenarios/raw-jetstream.ts run <servers> <items> [consumers] [perMessage]
 *   node --import tsx bench/scenarios/raw-jetstream.ts consume <servers> <stream> <replySubject>
 *
 * Imported by remote.ts; `consume` is the child's half.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { childReady } from './child-ready.js';

const DURABLE = 'workers';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface RawLoopResult {
  items: number;
  seconds: number;
  checksum: number;
}

/** Runs the loop once, child consumers started and the stream made before the clock starts. */
export async function rawJetStreamLoop(
  servers: string,
  items: number,
  consumers = 2,
  perMessage = 100,
  window = 64,
): Promise<RawLoopResult> {
  const id = `${process.pid}_${Date.now()}`;
  const stream = `BENCH_RAW_${id}`;
  const workSubject = `bench.raw.${id}.work`;
  const replySubject = `bench.raw.${id}.reply`;
  const nc = await connect({ servers });
  const jsm = await jetstreamManager(nc);
  const children: ChildProcess[] = [];
  try {
    await jsm.streams.add({
      name: stream,
      subjects: [workSubject],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
    });
    await jsm.consumers.add(stream, {
      durable_name: DURABLE,
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 1_000,
    });
    const self = fileURLToPath(import.meta.url);
    for (let i = 0; i < consumers; i++) {
      const child = fork(self, ['consume', servers, stream, replySubject], {
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      });
      children.push(child);
      await childReady(child);
    }

    const js = jetstream(nc);
    const messages = Math.ceil(items / perMessage);
    let answered = 0;
    let checksum = 0;
    let allAnswered!: () => void;
    const done = new Promise<void>((resolve) => {
      allAnswered = resolve;
    });
    let slotFreed: (() => void) | undefined;
    const replies = nc.subscribe(replySubject, {
      callback: (_error, msg) => {
        const values = JSON.parse(decoder.decode(msg.data)) as number[];
        for (const value of values) checksum += value;
        answered++;
        slotFreed?.();
        if (answered === messages) allAnswered();
      },
    });

    const started = performance.now();
    const publishes: Promise<unknown>[] = [];
    for (let m = 0; m < messages; m++) {
      while (m - answered >= window) {
        await new Promise<void>((resolve) => {
          slotFreed = resolve;
        });
        slotFreed = undefined;
      }
      const first = m * perMessage;
      const batch = Array.from({ length: Math.min(perMessage, items - first) }, (_, i) => first + i);
      publishes.push(js.publish(workSubject, encoder.encode(JSON.stringify(batch))));
      if (publishes.length >= window) await Promise.all(publishes.splice(0));
    }
    await Promise.all(publishes);
    await done;
    const seconds = (performance.now() - started) / 1000;
    replies.unsubscribe();
    return { items, seconds, checksum };
  } finally {
    for (const child of children) child.kill();
    await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  }
}

/** The child: answers every message of the stream's durable consumer, then acks it. */
async function consume(servers: string, stream: string, replySubject: string): Promise<void> {
  const nc = await connect({ servers });
  const consumer = await jetstream(nc).consumers.get(stream, DURABLE);
  const messages = await consumer.consume({ max_messages: 256 });
  process.stdout.write('ready\n');
  for await (const m of messages) {
    const values = JSON.parse(decoder.decode(m.data)) as number[];
    nc.publish(replySubject, encoder.encode(JSON.stringify(values.map((v) => v))));
    m.ack();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, servers = 'nats://127.0.0.1:4222', ...rest] = process.argv.slice(2);
  if (mode === 'consume') await consume(servers, rest[0] as string, rest[1] as string);
  else
    console.log(
      JSON.stringify(await rawJetStreamLoop(servers, Number(rest[0] ?? 100_000), Number(rest[1] ?? 2))),
    );
}
