// sluice/log: a logger that never blocks the event loop. Its own entry point, so the core does not load pino.

export type { CreateLoggerOptions } from './observe/create-logger.js';
export { createLogger } from './observe/create-logger.js';
export type { Logger } from './observe/logger.js';
