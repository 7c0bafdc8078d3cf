/**
 * Which failures mean "too much at once". A limit that backed off on every error would collapse
 * on a stage whose items are sometimes bad; one that never did would not hear a service asking
 * it to slow down.
 */
import { isSluiceError } from '../core/errors.js';
import { isAbort, retryAfterMs } from '../core/retry.js';

/** Error codes of sockets refused, reset or timed out, and of descriptors running out. */
const connectionCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EMFILE',
  'ENFILE',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** The HTTP status an error carries, as HTTP clients attach it, if any. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  const response = e.response as Record<string, unknown> | undefined;
  for (const value of [e.statusCode, e.status, response?.status, response?.statusCode]) {
    if (typeof value === 'number' && Number.isInteger(value)) return value;
  }
  return undefined;
}

/**
 * The default `isOverload`: timeouts, HTTP 408, 429 and 5xx, connection errors, an error carrying
 * a Retry-After, and any other error without an HTTP status. Other 4xx statuses are the item's
 * fault, and an abort is the run's, not the service's.
 */
export function isOverload(error: unknown): boolean {
  if (isAbort(error)) return false;
  if (isSluiceError(error, 'SLUICE_ERR_TIMEOUT')) return true;
  if (retryAfterMs(error) !== undefined) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && connectionCodes.has(code)) return true;
  const status = statusOf(error);
  if (status === undefined) return true;
  return status === 408 || status === 429 || status >= 500;
}
