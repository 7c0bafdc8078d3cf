/**
 * Every name sluice gives to things on the broker: streams, subjects, consumers, KV buckets and
 * message headers. One run's stage owns two streams (work and results) named after the run and the
 * stage, so ending a run, or cleaning up after a dead one, is deleting two streams: nothing of it
 * can linger in a stream another run reads.
 */
import { randomBytes } from 'node:crypto';

/** KV bucket where coordinators announce the run stages they serve, refreshed while alive. */
export const RUNS_BUCKET = 'sluice_runs';
/** KV bucket where workers announce themselves, refreshed while alive. */
export const WORKERS_BUCKET = 'sluice_workers';
/** The durable consumer every worker of a run stage pulls from. */
export const WORK_CONSUMER = 'work';
/** The durable consumer the coordinator reads answers from. */
export const RESULTS_CONSUMER = 'results';

/** How a cancel message names a work message: its first index and attempt. */
export function messageKey(first: number, attempt: number): string {
  return `${first}:${attempt}`;
}

/** A cancel message's body that means every message of the stage. */
export const CANCEL_ALL = '*';

/** Message headers. `Nats-Msg-Id` is the server's own, for deduplicating republished messages. */
export const header = {
  task: 'Sluice-Task',
  first: 'Sluice-First',
  offset: 'Sluice-Offset',
  attempt: 'Sluice-Attempt',
  timeout: 'Sluice-Timeout',
  worker: 'Sluice-Worker',
  delivery: 'Sluice-Delivery',
  busy: 'Sluice-Busy',
  msgId: 'Nats-Msg-Id',
} as const;

/** A fresh run id: 12 characters that are safe in subjects, stream names and KV keys. */
export function newRunId(): string {
  return randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
}

/** Reduces a name to what a subject token, a stream name and a KV key all accept. */
export function token(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '_');
  return safe.length > 0 ? safe.slice(0, 64) : '_';
}

/** Where one stage of one run lives on the broker. */
export interface StagePlace {
  readonly run: string;
  readonly stage: string;
  readonly workStream: string;
  readonly resultStream: string;
  readonly workSubject: string;
  readonly resultSubject: string;
  /** Core NATS subject on which the coordinator tells workers to drop messages it no longer wants. */
  readonly cancelSubject: string;
  /** Its key in the runs bucket. */
  readonly key: string;
}

export function stagePlace(run: string, stage: string): StagePlace {
  const r = token(run);
  const s = token(stage);
  return {
    run: r,
    stage: s,
    workStream: `SLUICE_WORK_${r}_${s}`,
    resultStream: `SLUICE_RES_${r}_${s}`,
    workSubject: `sluice.work.${r}.${s}`,
    resultSubject: `sluice.res.${r}.${s}`,
    cancelSubject: `sluice.cancel.${r}.${s}`,
    key: `${r}.${s}`,
  };
}

/** What a stage's streams say in their description: how a worker tells whose they are. */
export function stageDescription(place: StagePlace): string {
  return `sluice stage ${place.key}`;
}

/** The `<run>.<stage>` key a stream description names, if it is one of sluice's. */
export function stageKeyOf(description: string | undefined): string | undefined {
  return /^sluice stage ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(description ?? '')?.[1];
}

/** The subject the server publishes a max-deliveries advisory on for a consumer. */
export function maxDeliveriesSubject(stream: string, consumer: string): string {
  return `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${consumer}`;
}
