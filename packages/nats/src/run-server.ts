/**
 * One worker serving one stage of one run: pulls work messages from the stage's durable consumer,
 * runs them on the worker's local pool, publishes the answers, then acknowledges.
 *
 * A worker pulls only as many messages as it can hold (a fetch for its free slots), so the server
 * spreads a run's messages over its workers by how fast each takes them; consume() would keep
 * pulling ahead and let one worker hoard the whole run. A first delivery runs as one batch; a
 * redelivered message ran before on a worker that vanished without an answer, so it runs item by
 * item, each answered as it ends: if an item takes its worker down, the items before it are
 * answered and the coordinator can tell which one it was.
 */
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders, type Subscription } from '@nats-io/transport-node';
import {
  AbortError,
  type BatchOutcome,
  BrokerError,
  type Logger,
  toWire,
  UnknownTaskError,
  type WireError,
  type WorkerPool,
} from 'sluice';
import { HEADER_ROOM, type Piece, resultBody, split, wireErrors } from './codec.js';
import { isGone, type Link, pause } from './link.js';
import { CANCEL_ALL, header, messageKey, type StagePlace, WORK_CONSUMER } from './names.js';
import type { TaskIdentity } from './task-identity.js';

/** A task module a worker serves, on its local pool. */
export interface LocalTask {
  readonly identity: TaskIdentity;
  readonly pool: WorkerPool<unknown, unknown>;
}

/** What a run server reports back to its worker. */
export interface RunServerHost {
  readonly name: string;
  readonly logger: Logger | undefined;
  /** Counts items answered (and failed) for the worker's stats. */
  answered(count: number, failed: number): void;
  /** The stage's stream or consumer is gone: the run may have ended. */
  lost(key: string): void;
}

export class RunServer {
  readonly #link: Link;
  readonly #place: StagePlace;
  readonly #task: LocalTask;
  readonly #host: RunServerHost;
  readonly #capacity: number;
  /**
   * Messages received and not yet acknowledged or nak'ed (they get progress reports), each with
   * the controller that cancels its items on the local pool.
   */
  readonly held = new Map<JsMsg, { key: string; abort: AbortController }>();
  readonly #cancels: Subscription;
  #stopping = false;
  #fetch: ConsumerMessages | undefined;
  #wake: (() => void) | undefined;
  readonly #done: Promise<void>;

  constructor(link: Link, place: StagePlace, task: LocalTask, host: RunServerHost, capacity: number) {
    this.#link = link;
    this.#place = place;
    this.#task = task;
    this.#host = host;
    this.#capacity = capacity;
    this.#cancels = link.nc.subscribe(place.cancelSubject, {
      callback: (error, msg) => {
        if (error === null) this.#onCancel(msg.string());
      },
    });
    this.#done = this.#loop();
  }

  get key(): string {
    return this.#place.key;
  }

  /** Tells the server a message is still being worked on, so it is not handed to another worker. */
  reportProgress(): void {
    for (const msg of this.held.keys()) msg.working();
  }

  /** The coordinator no longer wants some messages (or any): their items stop where they are. */
  #onCancel(text: string): void {
    let keys: unknown;
    try {
      keys = JSON.parse(text);
    } catch {
      return;
    }
    const wanted = Array.isArray(keys) ? new Set(keys) : undefined;
    if (wanted === undefined && keys !== CANCEL_ALL) return;
    for (const { key, abort } of this.held.values()) {
      if (wanted === undefined || wanted.has(key))
        abort.abort(new AbortError('the coordinator cancelled these items'));
    }
  }

  /**
   * Stops pulling; messages in hand finish within `drainMs`, then any left are given back (nak)
   * for another worker.
   */
  async stop(drainMs: number): Promise<void> {
    this.#stopping = true;
    this.#cancels.unsubscribe();
    await this.#fetch?.close().catch(() => {});
    this.#wake?.();
    await this.#done;
    const deadline = Date.now() + drainMs;
    while (this.held.size > 0 && Date.now() < deadline) await pause(20);
    for (const [msg, { abort }] of this.held) {
      msg.nak();
      abort.abort(new AbortError('the worker stopped serving this stage'));
    }
    this.held.clear();
  }

  async #loop(): Promise<void> {
    let consumer: Awaited<ReturnType<Link['js']['consumers']['get']>> | undefined;
    let failures = 0;
    while (!this.#stopping) {
      const free = this.#capacity - this.held.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      try {
        consumer ??= await this.#link.js.consumers.get(this.#place.workStream, WORK_CONSUMER);
        const messages = await consumer.fetch({ max_messages: free, expires: 5_000 });
        this.#fetch = messages;
        for await (const msg of messages) {
          if (this.#stopping) {
            msg.nak();
            continue;
          }
          const abort = new AbortController();
          const key = messageKey(
            Number(msg.headers?.get(header.first)),
            Number(msg.headers?.get(header.attempt) || 1),
          );
          this.held.set(msg, { key, abort });
          void this.#handle(msg, abort.signal);
        }
        failures = 0;
      } catch (error) {
        consumer = undefined;
        failures++;
        if (isGone(error)) this.#host.lost(this.#place.key);
        if (!this.#stopping) await pause(Math.min(2_000, 100 * failures));
      } finally {
        this.#fetch = undefined;
      }
    }
  }

  async #handle(msg: JsMsg, signal: AbortSignal): Promise<void> {
    try {
      const delivery = msg.info.deliveryCount;
      const first = Number(msg.headers?.get(header.first));
      const attempt = Number(msg.headers?.get(header.attempt) || 1);
      const timeoutHeader = msg.headers?.get(header.timeout);
      const timeout = timeoutHeader ? Number(timeoutHeader) : undefined;
      const task = msg.headers?.get(header.task) ?? '';
      const reply = { first, attempt, delivery };
      let items: unknown[];
      try {
        items = msg.json<unknown[]>();
        if (!Array.isArray(items)) throw new TypeError('the body is not a JSON array');
      } catch (error) {
        // Nothing can be answered for items that cannot be read: drop the message.
        this.#host.logger?.warn(
          { stage: this.#place.stage, error: String(error) },
          'unreadable work message',
        );
        msg.term();
        return;
      }
      if (task !== this.#task.identity.id) {
        const error = new UnknownTaskError(
          `worker ${this.#host.name} serves ${this.#task.identity.id}, not ${task || 'an unnamed task'}`,
          { task, served: this.#task.identity.id },
        );
        await this.#answer(
          reply,
          0,
          items.length,
          { values: [], errors: new Array(items.length).fill(error) },
          0,
        );
      } else if (delivery === 1) {
        const outcome = await this.#task.pool.execute({ items, first, attempt, timeout, signal });
        await this.#answer(reply, 0, items.length, outcome, this.#busy(items.length));
      } else {
        for (let i = 0; i < items.length && !this.#stopping; i++) {
          const outcome = await this.#task.pool.execute({
            items: [items[i]],
            first: first + i,
            attempt,
            timeout,
          });
          await this.#answer(reply, i, 1, outcome, this.#busy(1));
          msg.working();
        }
        if (this.#stopping) throw new BrokerError('the worker is stopping');
      }
      msg.ack();
    } catch (error) {
      // Nobody wants these answers any more: take the message off the queue.
      if (signal.aborted) {
        if (this.held.has(msg)) msg.ack();
        return;
      }
      // The pool closed under it (the worker is stopping) or the answer could not be published:
      // another worker, or this one later, takes the message again.
      if (!this.#stopping)
        this.#host.logger?.warn(
          { stage: this.#place.stage, error: String(error) },
          'work message given back',
        );
      msg.nak(this.#stopping ? 0 : 1_000);
    } finally {
      this.held.delete(msg);
      this.#wake?.();
      this.#wake = undefined;
    }
  }

  #busy(count: number): number {
    return (this.#task.pool.busyMsPerItem ?? 0) * count;
  }

  /**
   * Publishes the answers for `count` items starting at `offset` within the message. An outcome's
   * arrays may be shorter than `count` (a failed last item leaves no value): count is the truth.
   */
  async #answer(
    reply: { first: number; attempt: number; delivery: number },
    offset: number,
    count: number,
    { values, errors }: BatchOutcome<unknown>,
    busyMs: number,
  ): Promise<void> {
    const answers = Array.from({ length: count }, (_, i) =>
      errors?.[i] === undefined ? values[i] : undefined,
    );
    const { pieces, failed } = split(
      answers,
      Number.POSITIVE_INFINITY,
      this.#link.maxPayload - HEADER_ROOM,
      'result',
    );
    const sends: Promise<void>[] = [];
    for (const piece of pieces) {
      sends.push(this.#send(reply, offset, piece, wireErrors(errors, piece.offset, piece.count), busyMs));
    }
    // An answer too big for a message is an error answer of its own.
    for (const [at, error] of failed) {
      const piece: Piece = { offset: at, count: 1, parts: ['null'] };
      sends.push(this.#send(reply, offset, piece, [[0, toWire(error)]], 0));
    }
    await Promise.all(sends);
    let failures = failed.size;
    if (errors !== undefined) for (const error of errors) if (error !== undefined) failures++;
    this.#host.answered(count, failures);
  }

  async #send(
    reply: { first: number; attempt: number; delivery: number },
    offset: number,
    piece: Piece,
    errors: [number, WireError][],
    busyMs: number,
  ): Promise<void> {
    const at = offset + piece.offset;
    const headers = natsHeaders();
    headers.set(header.first, String(reply.first));
    headers.set(header.offset, String(at));
    headers.set(header.attempt, String(reply.attempt));
    headers.set(header.worker, this.#host.name);
    headers.set(header.delivery, String(reply.delivery));
    if (busyMs > 0) headers.set(header.busy, busyMs.toFixed(3));
    const msgID = `${reply.first}:${reply.attempt}:${at}:${piece.count}`;
    const body = resultBody(piece, errors);
    for (let retry = 0; ; retry++) {
      try {
        await this.#link.js.publish(this.#place.resultSubject, body, { msgID, headers, timeout: 5_000 });
        return;
      } catch (error) {
        if (isGone(error) || retry >= 20) throw error;
        await pause(Math.min(1_000, 50 * 2 ** retry));
      }
    }
  }
}
