/**
 * The coordinator's side of a remote stage: an Executor that publishes the flow's batches to a
 * work-queue stream and reads the workers' answers from a results stream.
 *
 * The rules it keeps:
 * - At most `maxInFlight` items are published and unanswered at once; `execute` waits for room.
 *   The work stream's message cap (discard new) is only the backstop.
 * - An item's answer counts once: the first answer for (message, attempt, position) wins, later
 *   ones (a redelivery after a killed worker, an ack lost in a broker restart) are counted as
 *   duplicates and dropped. The stage is done when every item has an answer, never judged by what
 *   the streams hold.
 * - Streams that go missing under the stage (a broker restarted without its store, workers that
 *   took the coordinator for dead) are put back, and every item published to them and still
 *   unanswered is published again at once: what they held is gone with them.
 * - A message the server stops delivering after `maxDeliver` attempts (the max-deliveries
 *   advisory) ends its first unanswered item with SLUICE_ERR_MAX_DELIVERIES and publishes the rest
 *   again: a redelivered message is worked one item at a time, answering each, so the first item
 *   without an answer is the one that took its workers down.
 */
import { hostname } from 'node:os';
import type { ConsumerMessages, ConsumerNotification } from '@nats-io/jetstream';
import { headers as natsHeaders, type Subscription } from '@nats-io/transport-node';
import {
  type BatchOutcome,
  type BatchRequest,
  BrokerError,
  type Executor,
  MaxDeliveriesError,
  NoWorkersError,
  PoolClosedError,
} from 'sluice';
import { HEADER_ROOM, type Piece, readResultBody, split, workBody } from './codec.js';
import { abortError, InFlightWindow } from './in-flight-window.js';
import { HEARTBEAT_MS, isGone, type Link, messageOf, pause } from './link.js';
import {
  CANCEL_ALL,
  header,
  maxDeliveriesSubject,
  messageKey,
  RESULTS_CONSUMER,
  type StagePlace,
  WORK_CONSUMER,
} from './names.js';
import { declareStageStreams, deleteStageStreams, type StageStreamsCreated } from './stage-streams.js';
import type { TaskIdentity } from './task-identity.js';
import { liveWorkers, type WorkerInfo } from './worker-info.js';

export interface RemoteStageOptions {
  readonly maxInFlight: number;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly replicas: number;
  readonly workerWaitMs: number;
  /** Items per message before any answer said how long items take. */
  readonly initialItemsPerMessage: number;
  readonly maxItemsPerMessage: number;
  /** Milliseconds of work a message should carry once item times are known. */
  readonly messageWorkMs: number;
}

/** Per-worker counts, as the stage's report shows them. */
export interface WorkerCounts {
  /** Items this worker answered first (the answers that counted). */
  done: number;
  /** Of those, items that failed. */
  failed: number;
  /** Of those, items answered from a redelivered message. */
  redelivered: number;
}

/** What a remote stage has done so far. */
export interface RemoteStageStats {
  readonly run: string;
  readonly stage: string;
  readonly task: string;
  /** Items published (republished items count again). */
  readonly published: number;
  /** Items with an answer that counted. */
  readonly answered: number;
  /** Answers dropped because the item had one already. */
  readonly duplicates: number;
  /** Items answered from a redelivered message. */
  readonly redelivered: number;
  /** Items ended by the max-deliveries rule. */
  readonly poisoned: number;
  /** Items published and not yet answered. */
  readonly inFlight: number;
  /** Highest `inFlight` seen. */
  readonly peakInFlight: number;
  readonly itemsPerMessage: number;
  readonly workers: Readonly<Record<string, WorkerCounts>>;
}

/** One published message's items, waiting for answers. */
interface Chunk {
  readonly first: number;
  readonly attempt: number;
  readonly request: PendingRequest;
  /** Position of the chunk's first item in its request. */
  readonly at: number;
  readonly count: number;
  readonly answered: Uint8Array;
  left: number;
  /** Stream sequence, once the server acknowledged the publish. */
  seq: number | undefined;
  readonly piece: Piece;
  /** Bumped on every republish, so its message id differs from the message it replaces. */
  readonly generation: number;
  /** Milliseconds each item may run, as the request said. */
  readonly timeout: number | undefined;
  /** Sweeps in a row that found this chunk's message stuck (see #sweep). */
  stuck?: number;
}

interface PendingRequest {
  readonly values: unknown[];
  errors: unknown[] | undefined;
  left: number;
  readonly chunks: Set<Chunk>;
  settled: boolean;
  resolve(outcome: BatchOutcome<unknown>): void;
  reject(error: unknown): void;
}

export class RemoteExecutor<In, Out> implements Executor<In, Out> {
  readonly #link: Promise<Link>;
  readonly #task: TaskIdentity;
  readonly #place: StagePlace;
  readonly #options: RemoteStageOptions;
  readonly #opened: Promise<void>;
  readonly #chunks = new Map<number, Chunk>();
  readonly #bySeq = new Map<number, Chunk>();
  readonly #window: InFlightWindow;
  #published = 0;
  #answered = 0;
  #duplicates = 0;
  #redelivered = 0;
  #poisoned = 0;
  #busyMs = 0;
  /** Smoothed worker milliseconds per item; undefined until the first answer. */
  #perItemMs: number | undefined;
  readonly #perWorker = new Map<string, WorkerCounts>();
  #closed = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #results: ConsumerMessages | undefined;
  #advisories: Subscription | undefined;
  /** When the stage's streams were created, as last declared: a later time means they were put back. */
  #streamsCreated: StageStreamsCreated | undefined;
  /** The declaration under way: callers that suspect a loss at the same moment share it. */
  #declaring: Promise<void> | undefined;
  /** Times the streams were found put back: a publish that was out meanwhile may sit in a lost one. */
  #streamsLost = 0;

  constructor(link: Promise<Link>, task: TaskIdentity, place: StagePlace, options: RemoteStageOptions) {
    this.#link = link;
    this.#task = task;
    this.#place = place;
    this.#options = options;
    this.#window = new InFlightWindow(options.maxInFlight);
    this.#opened = this.#open();
    // A failure to open surfaces in ready() and execute(); until then it must not be unhandled.
    this.#opened.catch(() => {});
  }

  get batchSize(): number {
    const { initialItemsPerMessage, maxItemsPerMessage, messageWorkMs } = this.#options;
    if (this.#perItemMs === undefined) return initialItemsPerMessage;
    const wanted = Math.round(messageWorkMs / Math.max(this.#perItemMs, 1e-6));
    return Math.max(1, Math.min(maxItemsPerMessage, wanted));
  }

  get capacity(): number {
    return Math.max(2, Math.ceil(this.#options.maxInFlight / this.batchSize));
  }

  /** Worker milliseconds spent on this stage's items, as the workers reported them. */
  get busyMs(): number {
    return this.#busyMs;
  }

  /**
   * Resolves once the stage's streams exist and a live worker serves this exact task (same name,
   * same file hash); rejects with SLUICE_ERR_NO_WORKERS after `workerWaitMs` without one, or with
   * SLUICE_ERR_BROKER if the last listing of the workers by then failed. A listing that fails (a
   * broker restarting, a request timing out) is asked again: the workers may well be there, and
   * the run's own calls ride out the same restart. A listing under way when the wait ends is
   * waited for (up to the client's request timeout): one that answers late is still an answer.
   */
  async ready(): Promise<void> {
    await this.#opened;
    const link = await this.#link;
    const deadline = Date.now() + this.#options.workerWaitMs;
    for (;;) {
      if (this.#closed)
        throw new PoolClosedError(`stage ${this.#place.stage}: the remote executor is closed`);
      let live: WorkerInfo[] | undefined;
      let failure: unknown;
      try {
        live = await liveWorkers(link);
      } catch (error) {
        failure = error;
      }
      if (live?.some((w) => w.tasks.includes(this.#task.id))) return;
      if (Date.now() >= deadline) {
        if (live === undefined) {
          throw new BrokerError(
            `stage ${this.#place.stage}: the workers serving ${this.#task.id} could not be listed within ${this.#options.workerWaitMs} ms: ${messageOf(failure)}`,
            { stage: this.#place.stage, task: this.#task.id, cause: failure },
          );
        }
        const seen = live.map((w) => `${w.name} (${w.tasks.join(', ') || 'no tasks'})`).join('; ') || 'none';
        throw new NoWorkersError(
          `stage ${this.#place.stage}: no worker serving ${this.#task.id} announced itself within ${this.#options.workerWaitMs} ms; workers seen: ${seen}`,
          { stage: this.#place.stage, task: this.#task.id },
        );
      }
      await pause(200);
    }
  }

  /** Counts so far, per worker too. */
  stats(): RemoteStageStats {
    return {
      run: this.#place.run,
      stage: this.#place.stage,
      task: this.#task.id,
      published: this.#published,
      answered: this.#answered,
      duplicates: this.#duplicates,
      redelivered: this.#redelivered,
      poisoned: this.#poisoned,
      inFlight: this.#window.inFlight,
      peakInFlight: this.#window.peak,
      itemsPerMessage: this.batchSize,
      workers: Object.fromEntries([...this.#perWorker].map(([name, counts]) => [name, { ...counts }])),
    };
  }

  /** The Executor contract's report: the stage report shows these counts as its `executor`. */
  report(): Readonly<Record<string, unknown>> {
    return { kind: 'jetstream', ...this.stats() };
  }

  /** The workers announcing themselves now. */
  async workers(): Promise<WorkerInfo[]> {
    return liveWorkers(await this.#link);
  }

  async execute(request: BatchRequest<In>): Promise<BatchOutcome<Out>> {
    const { items, first, signal } = request;
    const attempt = request.attempt ?? 1;
    if (this.#closed) throw new PoolClosedError(`stage ${this.#place.stage}: the remote executor is closed`);
    if (signal?.aborted) throw abortError(signal);
    await this.#opened;
    const link = await this.#link;
    await this.#window.take(items.length, signal);
    const { pieces, failed } = split(items, this.batchSize, link.maxPayload - HEADER_ROOM, 'item');
    return new Promise<BatchOutcome<Out>>((resolve, reject) => {
      const pending: PendingRequest = {
        values: new Array(items.length),
        errors: undefined,
        left: items.length,
        chunks: new Set(),
        settled: false,
        resolve: resolve as (outcome: BatchOutcome<unknown>) => void,
        reject,
      };
      for (const [at, error] of failed) this.#settleItem(pending, at, undefined, error);
      // Items that never left hold no room.
      this.#window.release(failed.size);
      for (const piece of pieces) {
        this.#publish(link, {
          first: first + piece.offset,
          attempt,
          request: pending,
          at: piece.offset,
          count: piece.count,
          answered: new Uint8Array(piece.count),
          left: piece.count,
          seq: undefined,
          piece,
          generation: 0,
          timeout: request.timeout,
        });
      }
      if (signal !== undefined && pending.left > 0) {
        const onAbort = () => this.#abandon(pending, abortError(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        const done = () => signal.removeEventListener('abort', onAbort);
        pending.resolve = ((resolveOutcome) => (outcome) => {
          done();
          resolveOutcome(outcome);
        })(pending.resolve);
        pending.reject = ((rejectOutcome) => (error) => {
          done();
          rejectOutcome(error);
        })(pending.reject);
      }
      this.#maybeResolve(pending);
    });
  }

  /** Stops reading answers, deletes the stage's streams and announcement; pending requests reject. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearInterval(this.#sweeper);
    const error = new PoolClosedError(`stage ${this.#place.stage}: the remote executor was closed`);
    for (const chunk of [...this.#chunks.values()]) this.#abandon(chunk.request, error);
    this.#window.close(error);
    await this.#opened.catch(() => {});
    let link: Link;
    try {
      link = await this.#link;
    } catch {
      return;
    }
    this.#advisories?.unsubscribe();
    await this.#results?.close().catch(() => {});
    // Workers stop what they run for this stage now, not when they notice its streams are gone.
    link.nc.publish(this.#place.cancelSubject, JSON.stringify(CANCEL_ALL));
    await Promise.all([
      link.runs.delete(this.#place.key).catch(() => {}),
      deleteStageStreams(link, this.#place),
    ]);
  }

  async #open(): Promise<void> {
    const link = await this.#link;
    await this.#declare(link);
    this.#advisories = link.nc.subscribe(maxDeliveriesSubject(this.#place.workStream, WORK_CONSUMER), {
      callback: (error, msg) => {
        if (error === null) this.#onMaxDeliveries(link, msg.string());
      },
    });
    await this.#announce(link);
    this.#heartbeat = setInterval(() => void this.#announce(link), HEARTBEAT_MS);
    this.#heartbeat.unref();
    this.#sweeper = setInterval(() => void this.#sweep(link).catch(() => {}), this.#options.ackWaitMs);
    this.#sweeper.unref();
    void this.#readResults(link);
  }

  /**
   * Creates the stage's streams, or puts back what went missing. Every suspicion of a loss comes
   * here (the answers' consumer gone, publishes refused, the sweep finding no consumer), often
   * several at once, so one declaration runs at a time and the rest wait for it.
   */
  #declare(link: Link): Promise<void> {
    this.#declaring ??= this.#redeclare(link).finally(() => {
      this.#declaring = undefined;
    });
    return this.#declaring;
  }

  async #redeclare(link: Link): Promise<void> {
    const created = await declareStageStreams(link, this.#place, this.#options);
    const before = this.#streamsCreated;
    this.#streamsCreated = created;
    if (before !== undefined && (before.work !== created.work || before.results !== created.results)) {
      this.#streamsLost++;
      this.#resendLost(link);
    }
  }

  /**
   * The streams were put back: every message stored in the old ones is gone, and so is every
   * answer not yet read. Each chunk the old work stream acknowledged and not wholly answered goes
   * out again now. The sweep would find them too, but only after two idle ack waits (20 s at the
   * default), and by their old sequence numbers, which a new stream hands out again from 1 to
   * other messages. A chunk whose publish is still out is not among them: when its
   * acknowledgement comes, #publish sends it again if the streams were put back meanwhile (it may
   * have been stored in the old one). A worker still running an old message answers a duplicate
   * at worst.
   */
  #resendLost(link: Link): void {
    for (const chunk of [...this.#bySeq.values()]) this.#republish(link, chunk, chunk.answered.indexOf(0));
  }

  /** Refreshes the stage's entry in the runs bucket, which tells workers what to serve. */
  async #announce(link: Link): Promise<void> {
    if (this.#closed) return;
    const entry = {
      run: this.#place.run,
      stage: this.#place.stage,
      task: this.#task.id,
      coordinator: `${hostname()}:${process.pid}`,
      ackWaitMs: this.#options.ackWaitMs,
    };
    await link.runs.put(this.#place.key, JSON.stringify(entry)).catch(() => {});
  }

  /**
   * Reads answers for as long as the stage is open. A consumer that stops hearing the server's
   * heartbeats (a restart the client did not notice, a consumer lost with its server) is dropped
   * and opened again.
   */
  async #readResults(link: Link): Promise<void> {
    while (!this.#closed) {
      try {
        const consumer = await link.js.consumers.get(this.#place.resultStream, RESULTS_CONSUMER);
        const messages = await consumer.consume({
          max_messages: 512,
          expires: 5_000,
          idle_heartbeat: 1_000,
          callback: (msg) => this.#onResult(msg.headers, msg.string(), () => msg.ack()),
        });
        this.#results = messages;
        const stale = (async () => {
          for await (const status of messages.status()) if (consumerLost(status)) return true;
          return false;
        })();
        const restart = await Promise.race([stale, messages.closed().then(() => false)]);
        if (restart) await messages.close().catch(() => {});
      } catch {
        // The server may be restarting: try again shortly.
      }
      if (!this.#closed) {
        await pause(250);
        if (!this.#closed) await this.#declare(link).catch(() => {});
      }
    }
  }

  #onResult(headers: ReturnType<typeof natsHeaders> | undefined, body: string, ack: () => void): void {
    ack();
    const first = Number(headers?.get(header.first));
    const chunk = this.#chunks.get(first);
    const attempt = Number(headers?.get(header.attempt));
    let batch: ReturnType<typeof readResultBody>;
    try {
      batch = readResultBody(body);
    } catch {
      return;
    }
    if (chunk === undefined || chunk.attempt !== attempt) {
      this.#duplicates += batch.values.length;
      return;
    }
    const offset = Number(headers?.get(header.offset) ?? 0);
    const worker = headers?.get(header.worker) || 'unknown';
    const redelivered = Number(headers?.get(header.delivery) ?? 1) > 1;
    const busy = Number(headers?.get(header.busy) ?? 0);
    if (busy > 0) {
      this.#busyMs += busy;
      const perItem = busy / batch.values.length;
      this.#perItemMs = this.#perItemMs === undefined ? perItem : this.#perItemMs * 0.8 + perItem * 0.2;
    }
    let counts = this.#perWorker.get(worker);
    if (counts === undefined) {
      counts = { done: 0, failed: 0, redelivered: 0 };
      this.#perWorker.set(worker, counts);
    }
    const errors = new Map(batch.errors);
    for (let i = 0; i < batch.values.length; i++) {
      const position = offset + i;
      if (position >= chunk.count || chunk.answered[position] === 1) {
        this.#duplicates++;
        continue;
      }
      const error = errors.get(i);
      counts.done++;
      if (error !== undefined) counts.failed++;
      if (redelivered) {
        counts.redelivered++;
        this.#redelivered++;
      }
      this.#answer(chunk, position, batch.values[i], error);
    }
    this.#maybeResolve(chunk.request);
  }

  #answer(chunk: Chunk, position: number, value: unknown, error: unknown): void {
    chunk.answered[position] = 1;
    chunk.left--;
    this.#answered++;
    this.#settleItem(chunk.request, chunk.at + position, value, error);
    this.#window.release(1);
    if (chunk.left === 0) this.#forget(chunk);
  }

  #settleItem(pending: PendingRequest, at: number, value: unknown, error: unknown): void {
    if (error === undefined) pending.values[at] = value;
    else {
      pending.errors ??= [];
      pending.errors[at] = error;
    }
    pending.left--;
  }

  #maybeResolve(pending: PendingRequest): void {
    if (pending.left > 0 || pending.settled) return;
    pending.settled = true;
    pending.resolve({ values: pending.values, errors: pending.errors });
  }

  /**
   * Settles a request at once (aborted, or the executor closed). Its messages still queued are
   * deleted, and workers running one are told to stop; an answer that arrives anyway is a duplicate.
   */
  #abandon(pending: PendingRequest, error: unknown): void {
    if (pending.settled) return;
    pending.settled = true;
    const keys: string[] = [];
    const seqs: number[] = [];
    for (const chunk of pending.chunks) {
      this.#window.release(chunk.left);
      this.#forget(chunk);
      keys.push(messageKey(chunk.first, chunk.attempt));
      if (chunk.seq !== undefined) seqs.push(chunk.seq);
    }
    pending.reject(error);
    if (keys.length > 0 && !this.#closed) void this.#cancel(keys, seqs);
  }

  async #cancel(keys: string[], seqs: number[]): Promise<void> {
    const link = await this.#link;
    link.nc.publish(this.#place.cancelSubject, JSON.stringify(keys));
    for (const seq of seqs)
      await link.jsm.streams.deleteMessage(this.#place.workStream, seq, false).catch(() => {});
  }

  #forget(chunk: Chunk): void {
    if (this.#chunks.get(chunk.first) === chunk) this.#chunks.delete(chunk.first);
    if (chunk.seq !== undefined) this.#bySeq.delete(chunk.seq);
    chunk.request.chunks.delete(chunk);
  }

  /** Publishes a chunk, retrying (same message id: the server drops a repeat) until it is stored. */
  #publish(link: Link, chunk: Chunk): void {
    this.#chunks.set(chunk.first, chunk);
    chunk.request.chunks.add(chunk);
    this.#published += chunk.count;
    const headers = natsHeaders();
    headers.set(header.task, this.#task.id);
    headers.set(header.first, String(chunk.first));
    headers.set(header.attempt, String(chunk.attempt));
    if (chunk.timeout !== undefined) headers.set(header.timeout, String(chunk.timeout));
    const msgID = `${chunk.first}:${chunk.attempt}:${chunk.generation}`;
    const body = workBody(chunk.piece);
    void (async () => {
      for (let retry = 0; ; retry++) {
        if (this.#closed || chunk.request.settled) return;
        const lostBefore = this.#streamsLost;
        try {
          const ack = await link.js.publish(this.#place.workSubject, body, {
            msgID,
            headers,
            timeout: 5_000,
          });
          if (this.#streamsLost !== lostBefore) {
            // The streams were put back while this publish was out: stored in the old work
            // stream, it is lost with it (in the new one, sending it again costs a duplicate).
            const current = this.#chunks.get(chunk.first) === chunk && !chunk.request.settled;
            if (current && !this.#closed) this.#republish(link, chunk, chunk.answered.indexOf(0));
            return;
          }
          chunk.seq = ack.seq;
          if (this.#chunks.get(chunk.first) === chunk) this.#bySeq.set(ack.seq, chunk);
          return;
        } catch {
          await pause(Math.min(1_000, 50 * 2 ** retry));
          // Still refused after a few seconds: the stream may be gone; put it back.
          if (retry % 8 === 7 && !this.#closed) await this.#declare(link).catch(() => {});
        }
      }
    })();
  }

  /**
   * The backstop for an advisory this coordinator never heard (it was reconnecting when the server
   * sent it): when neither consumer has anything pending or unacknowledged, twice in a row an ack
   * wait apart, a message still in the work stream will never be delivered again, and one gone
   * from it without an answer was lost; the first is poison, the second is published again.
   */
  async #sweep(link: Link): Promise<void> {
    if (this.#closed || this.#bySeq.size === 0) return;
    const consumers = await Promise.all([
      link.jsm.consumers.info(this.#place.workStream, WORK_CONSUMER),
      link.jsm.consumers.info(this.#place.resultStream, RESULTS_CONSUMER),
    ]).catch(async (error: unknown) => {
      if (!isGone(error)) throw error;
      // A stream or consumer gone: put it back (and send again what a lost stream held).
      await this.#declare(link);
      return undefined;
    });
    if (consumers === undefined) return;
    const [work, results] = consumers;
    const idle =
      work.num_pending === 0 &&
      work.num_ack_pending === 0 &&
      results.num_pending === 0 &&
      results.num_ack_pending === 0;
    for (const [seq, chunk] of [...this.#bySeq]) {
      chunk.stuck = idle ? (chunk.stuck ?? 0) + 1 : 0;
      if (chunk.stuck < 2) continue;
      const stored = await link.jsm.streams.getMessage(this.#place.workStream, { seq }).catch(() => null);
      if (this.#bySeq.get(seq) !== chunk) continue;
      if (stored !== null) this.#giveUp(link, seq, this.#options.maxDeliver);
      else this.#republish(link, chunk, chunk.answered.indexOf(0));
    }
  }

  /** The server gave up on a message: end its culprit with a coded error and send the rest again. */
  #onMaxDeliveries(link: Link, text: string): void {
    let advisory: { stream_seq?: number; deliveries?: number };
    try {
      advisory = JSON.parse(text);
    } catch {
      return;
    }
    const seq = advisory.stream_seq;
    if (typeof seq !== 'number') return;
    this.#giveUp(link, seq, advisory.deliveries ?? this.#options.maxDeliver);
  }

  #giveUp(link: Link, seq: number, deliveries: number): void {
    // A work-queue stream keeps a message past its deliveries: remove it, or it is never cleaned up.
    link.jsm.streams.deleteMessage(this.#place.workStream, seq, false).catch(() => {});
    const chunk = this.#bySeq.get(seq);
    if (chunk === undefined) return;
    this.#forget(chunk);
    const culprit = chunk.answered.indexOf(0);
    if (culprit === -1) return;
    this.#poisoned++;
    this.#answer(
      chunk,
      culprit,
      undefined,
      new MaxDeliveriesError(
        `stage ${this.#place.stage}: item ${chunk.first + culprit} was delivered ${deliveries} times and never answered; it crashed or stalled its worker each time`,
        { stage: this.#place.stage, index: chunk.first + culprit, attempts: deliveries },
      ),
    );
    // The items after it were never tried alone: send them again.
    this.#republish(link, chunk, culprit + 1);
  }

  /** Publishes each contiguous run of the chunk's unanswered items from `from` on as a message of its own. */
  #republish(link: Link, chunk: Chunk, from: number): void {
    this.#forget(chunk);
    if (from < 0) return;
    let start = -1;
    for (let i = from; i <= chunk.count; i++) {
      const open = i < chunk.count && chunk.answered[i] === 0;
      if (open && start === -1) start = i;
      if (!open && start !== -1) {
        const parts = chunk.piece.parts.slice(start, i);
        for (let k = start; k < i; k++) chunk.answered[k] = 1;
        const count = i - start;
        chunk.left -= count;
        this.#publish(link, {
          first: chunk.first + start,
          attempt: chunk.attempt,
          request: chunk.request,
          at: chunk.at + start,
          count,
          answered: new Uint8Array(count),
          left: count,
          seq: undefined,
          piece: { offset: chunk.piece.offset + start, count, parts },
          generation: chunk.generation + 1,
          timeout: chunk.timeout,
        });
        start = -1;
      }
    }
    this.#maybeResolve(chunk.request);
  }
}

/**
 * Whether a consume() status says its consumer will deliver nothing more until it is declared
 * again: deleted, not found, its stream not found (the client keeps asking and reports each
 * refusal, but a stream deleted under it stays deleted), or silent past two heartbeats.
 */
function consumerLost(status: ConsumerNotification): boolean {
  switch (status.type) {
    case 'heartbeats_missed':
      return status.count >= 2;
    case 'consumer_deleted':
    case 'consumer_not_found':
    case 'stream_not_found':
      return true;
    default:
      return false;
  }
}
