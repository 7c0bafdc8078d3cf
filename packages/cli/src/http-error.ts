/**
 * A failed HTTP answer as an error that carries the status and the headers, which is what sluice's
 * retry (Retry-After) and adaptive concurrency (429, 503) read.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    url: string,
  ) {
    super(`HTTP ${status} from ${url}`);
    this.name = 'HttpError';
  }
}
