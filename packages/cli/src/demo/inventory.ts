/**
 * The demo's ETL as one flow: the pages of every provider, fetched concurrently under each
 * provider's rate limit with retries; their records normalized on the worker pool; merged by
 * device identity; loaded in batches, one transaction each.
 *
 *   frontier ─► fetch (IO, event loop) ─► split ─► normalize (CPU, workers) ─► batch ─► correlate ─► load
 */

import type { RemoteStageStats } from '@sluice/nats';
import { jetstream } from '@sluice/nats';
import type { RunReport } from 'sluice';
import { adaptive, cpu, flow, isSluiceError } from 'sluice';
import { Agent } from 'undici';
import { correlate } from './correlate.js';
import { isRetryable, type Page, pageFetcher } from './fetch-page.js';
import { Frontier, type PageRequest } from './frontier.js';
import type { Asset, RawRecord } from './normalize.js';
import type { Population } from './population.js';
import type { DeviceStore } from './store.js';

/** Sockets to the provider service, and the most pages in flight over all providers. */
export const MAX_FETCH_CONCURRENCY = 64;

/**
 * Pages fetched at once: found while running, per provider, since each is its own service with
 * its own latency and rate limit. A provider that slows down or answers 429 gets fewer calls
 * without holding back the others; MAX_FETCH_CONCURRENCY bounds them all together.
 */
export const FETCH_CONCURRENCY = adaptive<PageRequest>({
  initial: 4,
  max: MAX_FETCH_CONCURRENCY,
  key: (request) => request.provider.name,
});

/**
 * Requests a second the client allows itself per provider. The providers' own limits differ
 * (8 to 50); those below this learn the client better manners with 429 and Retry-After, which
 * pauses that provider's bucket.
 */
export const REQUESTS_PER_SECOND_PER_PROVIDER = 20;

/**
 * Devices per database transaction (before merging the duplicates inside a batch). Identity
 * hashes are random keys, so every batch rewrites pages all over the index: larger batches
 * share those page writes among more rows (5,000 loaded SQLite 1.7 times faster than 1,000).
 */
export const BATCH_SIZE = 5_000;

/** What the report does not count: pages, records, retries and dead letters are all in it. */
export interface InventoryCounts {
  /** Retries that answered a 429 from a provider. */
  rateLimited: number;
}

export interface InventoryResult {
  readonly report: RunReport;
  readonly counts: InventoryCounts;
  /** With `nats`: the normalize stage as the coordinator saw it, per remote worker. */
  readonly remote?: RemoteStageStats;
}

/** The task module the normalize stage runs: `sluice worker <this file>` serves it over NATS. */
export const NORMALIZE_TASK = new URL('./normalize.task.js', import.meta.url);

export interface InventoryOptions {
  readonly population: Population;
  /** The provider service, `http://host:port`. */
  readonly origin: string;
  readonly store: DeviceStore;
  readonly signal?: AbortSignal;
  /** Worker threads for the normalize stage. @default one per core */
  readonly workers?: number;
  /** Live progress on stderr. @default false */
  readonly progress?: boolean;
  /**
   * Runs the normalize stage on `sluice worker` processes reached through this NATS server
   * instead of on local threads (`workers` is then unused).
   */
  readonly nats?: string;
  /** With `nats`: milliseconds to wait for a worker before failing with SLUICE_ERR_NO_WORKERS. @default 30000 */
  readonly workerWaitMs?: number;
}

/**
 * Runs the ETL. Resolves with the report and the counts when the run completes; rejects with the
 * run's coded error otherwise, carrying `.report` and `.counts` so a stopped run still has its summary.
 */
export async function runInventory(options: InventoryOptions): Promise<InventoryResult> {
  const { population, origin, store, signal } = options;
  const counts: InventoryCounts = { rateLimited: 0 };
  const loads = new LoadLedger(store);
  const frontier = new Frontier(population.providers);
  const dispatcher = new Agent({ connections: MAX_FETCH_CONCURRENCY, keepAliveTimeout: 10_000 });
  const fetchPage = pageFetcher(origin, dispatcher);
  const remote =
    options.nats === undefined
      ? undefined
      : jetstream({ servers: options.nats, workerWaitMs: options.workerWaitMs ?? 30_000 });
  const normalize = cpu<RawRecord, Asset>(
    NORMALIZE_TASK,
    remote !== undefined
      ? { executor: remote }
      : options.workers === undefined
        ? {}
        : { workers: options.workers },
  );
  const remoteStats = (): { remote?: RemoteStageStats } => {
    const stage = remote?.stats().at(-1);
    return stage === undefined ? {} : { remote: stage };
  };

  try {
    const report = await flow(frontier)
      .map(
        async (request: PageRequest, ctx): Promise<Page> => {
          const page = await fetchPage(request, ctx);
          frontier.fetched(request, page);
          return page;
        },
        {
          name: 'fetch',
          concurrency: FETCH_CONCURRENCY,
          ordered: false,
          timeout: 10_000,
          rateLimit: { perSecond: REQUESTS_PER_SECOND_PER_PROVIDER, key: (r) => r.provider.name },
          retry: {
            attempts: 5,
            baseDelayMs: 100,
            maxDelayMs: 2_000,
            retryable: isRetryable,
            onRetry: (error) => {
              if ((error as { status?: number }).status === 429) counts.rateLimited++;
            },
          },
          // Dead-lettered, so counted in the report; the frontier must hear of it to know when the listing ends.
          onError: (request) => frontier.failed(request),
        },
      )
      .flatMap(
        ({ request, records }) =>
          records.map(
            (raw): RawRecord => ({ provider: request.provider.name, format: request.provider.format, raw }),
          ),
        { name: 'split', ordered: false },
      )
      .map(normalize, {
        name: 'normalize',
        ordered: false,
        // A record no rule can read is counted as a dead letter and the load goes on.
        onError: () => undefined,
      })
      // A batch is 5,000 devices: a buffer of 16 of them between stages would hold 80,000 while
      // the writer thread works, so each holds two, enough to keep the writer fed.
      .batch({ size: BATCH_SIZE, maxWaitMs: 250, name: 'batch', buffer: 2 })
      .map(correlate, { name: 'correlate', buffer: 2 })
      .forEach((rows) => loads.write(rows), { name: 'load' })
      .run({ progress: options.progress ?? false, ...(signal === undefined ? {} : { signal }) });
    return { report, counts, ...remoteStats() };
  } catch (error) {
    if (isSluiceError(error)) {
      const { report } = error as { report?: RunReport };
      if (report !== undefined)
        Object.defineProperty(error, 'report', { value: await loads.reconcile(report), configurable: true });
      Object.assign(error, { counts, ...remoteStats() });
    }
    throw error;
  } finally {
    await Promise.all([dispatcher.destroy(), remote?.close()]);
  }
}

/**
 * The batches handed to the store, and how many committed. A stopped run counts the batch being
 * written as cancelled, but the store finishes it (a transaction is whole or absent), so the
 * report is set right once that write has ended: every load in the database is in the report.
 */
class LoadLedger {
  readonly #store: DeviceStore;
  readonly #writing = new Set<Promise<void>>();
  #committed = 0;

  constructor(store: DeviceStore) {
    this.#store = store;
  }

  write(rows: Parameters<DeviceStore['write']>[0]): Promise<void> {
    const write = this.#store.write(rows).then(() => {
      this.#committed++;
    });
    this.#writing.add(write);
    const forget = (): void => {
      this.#writing.delete(write);
    };
    write.then(forget, forget);
    return write;
  }

  /** Waits for the writes still in flight, then moves those that committed from cancelled to emitted. */
  async reconcile(report: RunReport): Promise<RunReport> {
    await Promise.allSettled([...this.#writing]);
    const late = report.stages.map((s) => (s.name === 'load' ? this.#committed - s.emitted : 0));
    if (late.every((n) => n <= 0)) return report;
    return {
      ...report,
      stages: report.stages.map((s, i) => {
        const n = Math.max(0, late[i] ?? 0);
        return n === 0 ? s : { ...s, emitted: s.emitted + n, cancelled: s.cancelled - n };
      }),
    };
  }
}
