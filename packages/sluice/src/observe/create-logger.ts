/**
 * `sluice/log`: a logger whose writes never block the event loop. It lives behind its own subpath
 * so the core does not load pino unless asked to.
 */
import type pino from 'pino';
import { requirePeer } from '../core/peer.js';
import type { Logger } from './logger.js';

export interface CreateLoggerOptions {
  /** @default 'info' */
  level?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** File descriptor to write to. @default 2 (stderr) */
  fd?: number;
}

/**
 * A pino logger writing JSON lines asynchronously: a burst of log lines is buffered and written
 * when the loop is free, instead of each one stalling it on a slow terminal or pipe. pino is an
 * optional peer dependency: without it this throws SLUICE_ERR_MISSING_PEER naming it.
 * @example const logger = createLogger({ level: 'debug' }); await flow(xs).map(f).run({ logger });
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger & pino.Logger {
  const pino = requirePeer<typeof import('pino')>('pino', 'sluice/log');
  const destination = pino.destination({ dest: options.fd ?? 2, sync: false, minLength: 4096 });
  // An asynchronous destination holds lines in memory: write them before the process goes.
  process.once('exit', () => destination.flushSync());
  return pino({ level: options.level ?? 'info', base: { name: 'sluice' } }, destination);
}
