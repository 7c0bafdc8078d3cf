/**
 * The source of the fetch stage: the pages still to fetch. It starts with each provider's first
 * page and learns the rest from the answers, as a crawler does: a cursor-paged provider reveals
 * its next page only in the page before, so its pages go one at a time; a page-numbered one
 * reveals its total on page one, and the rest can then be fetched side by side. The queue holds
 * at most one entry per provider (a range stands for many pages), so it stays small whatever the
 * size of the listing.
 *
 * Requests are handed out round-robin, and no provider gets more than `perProvider` in flight:
 * otherwise one provider's 200 pages would fill every lane of the fetch stage, and the lanes
 * would all queue on that one provider's rate limit while the other thirty-nine sat idle.
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
  /** Requests handed out and not yet settled, by provider index. */
  readonly #inFlight: number[];
  readonly #perProvider: number;
  #wake: (() => void) | undefined;

  /** @param perProvider requests one provider may have handed out and unsettled at once */
  constructor(providers: readonly Provider[], perProvider = 4) {
    this.#ready = providers.map((provider) => ({ provider, page: 0 }));
    this.#open = providers.length;
    this.#inFlight = providers.map(() => 0);
    this.#perProvider = perProvider;
  }

  /** A page was fetched: queue the pages it revealed. */
  fetched(request: PageRequest, links: PageLinks): void {
    const { provider, page } = request;
    if (provider.paging === 'cursor' && links.nextCursor) {
      this.#push({ provider, page: page + 1, cursor: links.nextCursor }, 1);
    } else if (provider.paging === 'page' && page === 0 && (links.totalPages ?? 1) > 1) {
      this.#push({ provider, next: 1, end: links.totalPages! }, links.totalPages! - 1);
    }
    this.#settle(request);
  }

  /** A page failed for good. For a cursor-paged provider that ends its listing: its next cursor is lost with it. */
  failed(request: PageRequest): void {
    this.#settle(request);
  }

  #push(entry: PageRequest | Range, requests: number): void {
    this.#ready.push(entry);
    this.#open += requests;
    this.#wakeUp();
  }

  #settle(request: PageRequest): void {
    this.#open--;
    this.#inFlight[request.provider.index]!--;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The next request of the first provider in the queue below its in-flight limit, the queue then rotated. */
  #take(): PageRequest | undefined {
    const at = this.#ready.findIndex((entry) => this.#inFlight[entry.provider.index]! < this.#perProvider);
    if (at === -1) return undefined;
    const [entry] = this.#ready.splice(at, 1) as [PageRequest | Range];
    let request: PageRequest;
    if ('next' in entry) {
      request = { provider: entry.provider, page: entry.next++ };
      if (entry.next < entry.end) this.#ready.push(entry);
    } else {
      request = entry;
    }
    this.#inFlight[request.provider.index]!++;
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
