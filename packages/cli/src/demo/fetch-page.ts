/**
 * Fetches one page of a provider's listing over HTTP (undici) and reads its envelope. A failed
 * answer becomes an HttpError that carries the status and the headers, so the stage's retry
 * policy sees the server's Retry-After and the rate limiter pauses that provider's bucket.
 */

import type { StageContext } from 'sluice';
import { type Agent, request } from 'undici';
import { HttpError } from '../http-error.js';

export { HttpError };

import type { PageLinks, PageRequest } from './frontier.js';

/** Worth another attempt: rate limits, server errors, and network failures (no status). */
export function isRetryable(error: unknown): boolean {
  const status = (error as { status?: unknown }).status;
  return typeof status !== 'number' || status === 429 || status >= 500;
}

export interface Page extends PageLinks {
  readonly request: PageRequest;
  readonly records: unknown[];
}

type Envelope = Record<string, unknown>;

/** Each envelope (see formats.ts) read back: the records and the links to further pages. */
function readEnvelope(body: Envelope): { records: unknown; links: PageLinks } {
  const meta = body.meta as Envelope | undefined;
  const paging = body.paging as Envelope | undefined;
  return {
    records: body.data ?? body.items ?? body.results ?? body.assets,
    links: {
      nextCursor: (body.next_cursor ?? paging?.next ?? undefined) as string | undefined,
      totalPages: (body.total_pages ?? meta?.pages) as number | undefined,
    },
  };
}

export function pageUrl(origin: string, { provider, page, cursor }: PageRequest): string {
  const base = `${origin}/providers/${provider.name}/assets`;
  if (provider.paging === 'page') return `${base}?page=${page + 1}`;
  return cursor === undefined ? base : `${base}?cursor=${encodeURIComponent(cursor)}`;
}

/** A page fetcher bound to one origin and one connection pool. */
export function pageFetcher(origin: string, dispatcher: Agent) {
  return async function fetchPage(req: PageRequest, { signal }: StageContext): Promise<Page> {
    const url = pageUrl(origin, req);
    const { statusCode, headers, body } = await request(url, { dispatcher, signal });
    if (statusCode !== 200) {
      await body.dump();
      throw new HttpError(statusCode, headers, url);
    }
    const { records, links } = readEnvelope((await body.json()) as Envelope);
    if (!Array.isArray(records)) throw new TypeError(`no records in the answer from ${url}`);
    return { request: req, records, ...links };
  };
}
