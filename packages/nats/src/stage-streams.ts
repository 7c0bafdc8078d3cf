/**
 * The JetStream side of one run stage: its work stream (work-queue retention, discard new past a
 * message cap) with the `work` consumer every worker shares, and its results stream with the
 * coordinator's `results` consumer. `declareStageStreams` creates them, or puts back any that went
 * missing (a broker that lost its store, workers that took the coordinator for dead during a long
 * partition and deleted them), so the coordinator calls it again whenever it suspects a loss. It
 * says when each stream was created: a stream put back holds none of the messages published to
 * the one it replaces, and a creation time that changed is how the coordinator knows (adding a
 * stream that exists with the same settings succeeds, so the add alone cannot tell).
 */
import { AckPolicy, DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { Link } from './link.js';
import { RESULTS_CONSUMER, type StagePlace, stageDescription, WORK_CONSUMER } from './names.js';

/** The limits the streams and consumers are sized by. */
export interface StageStreamLimits {
  readonly maxInFlight: number;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly replicas: number;
}

type StreamConfigIn = Parameters<Link['jsm']['streams']['add']>[0];
type ConsumerConfigIn = Parameters<Link['jsm']['consumers']['add']>[1];

/** When each of a stage's streams was created, as the server says (an ISO timestamp). */
export interface StageStreamsCreated {
  readonly work: string;
  readonly results: string;
}

export async function declareStageStreams(
  link: Link,
  place: StagePlace,
  limits: StageStreamLimits,
): Promise<StageStreamsCreated> {
  const { maxInFlight, ackWaitMs, maxDeliver, replicas } = limits;
  // Items in flight bound the messages; results may also hold one message per item (a redelivered
  // message is answered item by item) and some duplicates.
  const stream = {
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: replicas,
    discard: DiscardPolicy.New,
    max_msg_size: link.maxPayload,
    duplicate_window: 120_000_000_000,
    description: stageDescription(place),
  };
  const work = await addOrUpdateStream(link, {
    ...stream,
    name: place.workStream,
    subjects: [place.workSubject],
    max_msgs: 2 * maxInFlight + 1024,
  });
  const results = await addOrUpdateStream(link, {
    ...stream,
    name: place.resultStream,
    subjects: [place.resultSubject],
    max_msgs: 4 * maxInFlight + 1024,
  });
  await link.jsm.consumers.add(place.workStream, {
    durable_name: WORK_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    ack_wait: ackWaitMs * 1_000_000,
    max_deliver: maxDeliver,
    max_ack_pending: maxInFlight + 1024,
  });
  await link.jsm.consumers.add(place.resultStream, resultsConsumer(maxInFlight));
  return { work, results };
}

/** Deletes both streams (and with them their consumers and any message left). Never throws. */
export async function deleteStageStreams(link: Link, place: StagePlace): Promise<void> {
  await Promise.all([
    link.jsm.streams.delete(place.workStream).catch(() => {}),
    link.jsm.streams.delete(place.resultStream).catch(() => {}),
  ]);
}

/** Creates the stream, or updates the one that exists; resolves with its creation time. */
async function addOrUpdateStream(link: Link, config: StreamConfigIn & { name: string }): Promise<string> {
  try {
    return (await link.jsm.streams.add(config)).created;
  } catch (error) {
    // The same run id resumed: the stream exists, perhaps with other limits.
    if (!/already in use|exists/i.test(String((error as Error).message))) throw error;
    return (await link.jsm.streams.update(config.name, config)).created;
  }
}

/** The coordinator's consumer of answers: explicit acks, so the stream forgets what was read. */
function resultsConsumer(maxInFlight: number): ConsumerConfigIn {
  return {
    durable_name: RESULTS_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    ack_wait: 30_000_000_000,
    max_ack_pending: 4 * maxInFlight + 1024,
  };
}
