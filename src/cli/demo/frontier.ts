/**
 * The source of the fetch stage: the pages still to fetch. It starts with each provider's first
 * page and learns the rest from the answers, as a crawler does: a cursor-paged provider reveals
 * its next page only in the page before, so its pages go one at a time; a page-numbered one
 * reveals its total on page one, and the rest can then be fetched side by side. The queue holds
 * at most one entry per provider (a range stands for many pages), so it stays small whatever the
 * size of the listing.
 */
import type { Provider } from './population.js';

export interface PageRequest {
  readonly provider: Provider;
  /** Counted from 0. */
  readonly page: number;
  /** For cursor-paged providers, past the first page. */
  readonly cursor?: string;
}

/** What an answer said about the pages after it. */
export interface PageLinks {
  readonly nextCursor?: string | undefined;
  readonly totalPages?: number | undefined;
}

interface Range {
  readonly provider: Provider;
  next: number;
  readonly end: number;
}

export class Frontier implements AsyncIterable<PageRequest> {
  readonly #ready: (PageRequest | Range)[];
  /** Requests queued or handed out and not yet settled; the listing is over when it reaches 0. */
  #open: number;
  #wake: (() => void) | undefined;

  constructor(providers: readonly Provider[]) {
    this.#ready = providers.map((provider) => ({ provider, page: 0 }));
    this.#open = providers.length;
  }

  /** A page was fetched: queue the pages it revealed. */
  fetched(request: PageRequest, links: PageLinks): void {
    const { provider, page } = request;
    if (provider.paging === 'cursor' && links.nextCursor) {
      this.#push({ provider, page: page + 1, cursor: links.nextCursor }, 1);
    } else if (provider.paging === 'page' && page === 0 && (links.totalPages ?? 1) > 1) {
      this.#push({ provider, next: 1, end: links.totalPages! }, links.totalPages! - 1);
    }
    this.#settle();
  }

  /** A page failed for good. For a cursor-paged provider that ends its listing: its next cursor is lost with it. */
  failed(_request: PageRequest): void {
    this.#settle();
  }

  #push(entry: PageRequest | Range, requests: number): void {
    this.#ready.push(entry);
    this.#open += requests;
    this.#wakeUp();
  }

  #settle(): void {
    this.#open--;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #take(): PageRequest | undefined {
    const head = this.#ready[0];
    if (head === undefined) return undefined;
    if (!('next' in head)) return this.#ready.shift() as PageRequest;
    const request = { provider: head.provider, page: head.next++ };
    if (head.next >= head.end) this.#ready.shift();
    return request;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<PageRequest> {
    for (;;) {
      const request = this.#take();
      if (request !== undefined) yield request;
      else if (this.#open === 0) return;
      else await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}
