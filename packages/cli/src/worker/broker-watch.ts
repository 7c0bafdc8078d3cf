/**
 * The worker's view of its NATS server: waiting for it at start, and saying in the log when the
 * connection drops and comes back. A worker under a supervisor (systemd, Kubernetes, a process
 * manager) is often started before its broker, or outlives a broker restart: failing at once
 * would only have the supervisor restart it in a loop, so it waits, one log line per attempt,
 * for as long as it is told.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'sluice';
import { CliError } from '../exit.js';

export interface BrokerWatchOptions {
  /** The server list as given: `nats://a:4222,nats://b:4222`. */
  readonly servers: string;
  /** Milliseconds to keep trying at start; `Infinity` waits for ever, 0 tries once. */
  readonly waitMs: number;
  readonly logger: Logger;
  /** Aborting stops the waiting (SIGINT, SIGTERM): `watchBroker` then resolves with undefined. */
  readonly signal: AbortSignal;
  /** First pause between attempts, doubled up to `maxDelayMs`. @default 250 */
  readonly firstDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
}

/** An open connection whose status changes are logged; close it when the worker stops. */
export interface BrokerWatch {
  /** The server it connected to first. */
  readonly server: string;
  close(): Promise<void>;
}

/** Error codes of a server that is not there (yet): nothing listens, or the address does not answer. */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
]);

/** `error` and the errors it was caused by, outermost first. */
function causes(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let e = error; e instanceof Error && chain.length < 8; e = e.cause) chain.push(e);
  return chain;
}

/**
 * True when `error`, or an error it was caused by, says the server could not be reached: the NATS
 * client's ConnectionError or TimeoutError, or a socket error code. Anything else (bad
 * credentials, a TLS mismatch) is not worth waiting for.
 */
export function isUnreachable(error: unknown): boolean {
  return causes(error).some((e) => {
    const code = (e as { code?: unknown }).code;
    return (
      e.name === 'ConnectionError' ||
      e.name === 'TimeoutError' ||
      (typeof code === 'string' && unreachableCodes.has(code))
    );
  });
}

/** The cause's own words, first line of each, without repeats. */
function reason(error: unknown): string {
  const messages = [...new Set(causes(error).map((e) => e.message.split('\n')[0] as string))];
  return messages.filter(Boolean).join(': ') || String(error);
}

async function tryConnect(servers: string): Promise<NatsConnection> {
  return connect({
    servers: servers.split(',').map((s) => s.trim()),
    name: `sluice-worker-watch@${hostname()}:${process.pid}`,
    // Once connected, never give up: the log says when the server comes back.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: false,
    timeout: 5_000,
  });
}

/** Logs every change of the connection's status worth an operator's attention. */
async function logStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'disconnect') logger.warn({ server: status.server }, 'disconnected from NATS');
    else if (status.type === 'reconnect') logger.info({ server: status.server }, 'reconnected to NATS');
    else if (status.type === 'error') logger.warn({ err: status.error.message }, 'NATS reported an error');
  }
}

/**
 * Connects to the server, retrying while it is unreachable (250 ms doubling to 5 s, a log line
 * each time) until `waitMs` has passed; then rejects with SLUICE_ERR_BROKER_UNREACHABLE. Any
 * other failure to connect rejects at once. Resolves with undefined when `signal` aborts first.
 */
export async function watchBroker(options: BrokerWatchOptions): Promise<BrokerWatch | undefined> {
  const { servers, waitMs, logger, signal } = options;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const giveUpAt = performance.now() + waitMs;
  let delayMs = options.firstDelayMs ?? 250;
  for (let attempt = 1; !signal.aborted; attempt++) {
    let nc: NatsConnection;
    try {
      nc = await tryConnect(servers);
    } catch (error) {
      if (!isUnreachable(error))
        throw new CliError('SLUICE_ERR_BROKER', `NATS at ${servers}: ${reason(error)}`);
      const leftMs = giveUpAt - performance.now();
      if (leftMs <= 0)
        throw new CliError(
          'SLUICE_ERR_BROKER_UNREACHABLE',
          `cannot reach the NATS server at ${servers}${attempt > 1 ? ` (${attempt} attempts)` : ''}: ${reason(error)}`,
        );
      const pauseMs = Math.min(delayMs, leftMs);
      logger.warn(
        { servers, attempt, retryInMs: Math.round(pauseMs), err: reason(error) },
        'NATS server not reachable, waiting for it',
      );
      await sleep(pauseMs, undefined, { signal }).catch(() => {});
      delayMs = Math.min(delayMs * 2, maxDelayMs);
      continue;
    }
    const server = nc.getServer();
    logger.info({ server }, 'connected to NATS');
    void logStatus(nc, logger).catch(() => {});
    return { server, close: () => nc.close() };
  }
  return undefined;
}
