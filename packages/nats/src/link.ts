/**
 * One connection to NATS and the JetStream handles on it, shared by everything a coordinator or a
 * worker opens. A broker that restarts must not end a long run: the client reconnects forever
 * (the client's own default gives up after 10 attempts) and waits for the first connection too,
 * so a worker started before its broker simply waits.
 */
import { hostname } from 'node:os';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { type ConnectionOptions, connect, type NatsConnection } from '@nats-io/transport-node';
import { BrokerError } from 'sluice';
import { RUNS_BUCKET, WORKERS_BUCKET } from './names.js';

/** How long an announcement lives in its KV bucket without a refresh. */
export const ANNOUNCE_TTL_MS = 15_000;
/** How often coordinators and workers refresh their announcements. */
export const HEARTBEAT_MS = 2_000;

export interface Link {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Run stages coordinators serve, by `<run>.<stage>`. */
  readonly runs: KV;
  /** Workers, by worker id. */
  readonly workers: KV;
  /** The server's max payload, in bytes. */
  readonly maxPayload: number;
}

/** Connection options with sluice's defaults under the caller's: reconnect forever, a name. */
export function connectionOptions(given: ConnectionOptions, role: string): ConnectionOptions {
  return {
    name: `sluice-${role}@${hostname()}:${process.pid}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    pingInterval: 5_000,
    ...given,
  };
}

/** Connects and opens (creating when missing) the buckets sluice announces into. */
export async function openLink(options: ConnectionOptions, role: string): Promise<Link> {
  let nc: NatsConnection;
  try {
    nc = await connect(connectionOptions(options, role));
  } catch (error) {
    throw new BrokerError(`could not connect to NATS at ${String(options.servers ?? '127.0.0.1:4222')}`, {
      cause: error,
    });
  }
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const kvm = new Kvm(nc);
    const bucket = { history: 1, ttl: ANNOUNCE_TTL_MS };
    const [runs, workers] = await Promise.all([
      kvm.create(RUNS_BUCKET, bucket),
      kvm.create(WORKERS_BUCKET, bucket),
    ]);
    return { nc, js, jsm, runs, workers, maxPayload: nc.info?.max_payload ?? 1024 * 1024 };
  } catch (error) {
    await nc.close().catch(() => {});
    throw new BrokerError('NATS has no JetStream, or refused to open the sluice buckets', { cause: error });
  }
}

/** A client error's message, or what was thrown as text. */
export function messageOf(error: unknown): string {
  return String((error as { message?: unknown })?.message ?? error);
}

/** Whether a JetStream error says the stream or consumer is gone (the run ended or was cleaned up). */
export function isGone(error: unknown): boolean {
  return /not found|deleted/i.test(messageOf(error));
}

/** Sleeps `ms`, unref'd, so a wait between retries never holds the process open. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
