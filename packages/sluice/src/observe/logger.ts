/**
 * The logger sluice writes to: pino's shape (`logger.warn(fields, message)`), so a pino logger, or
 * anything with the same methods, can be passed as it is. `createLogger` (in `sluice/log`) makes one
 * whose writes never block the event loop.
 */
export interface Logger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

export function isLogger(value: unknown): value is Logger {
  const v = value as Partial<Logger> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.warn === 'function' &&
    typeof v.info === 'function' &&
    typeof v.debug === 'function'
  );
}
