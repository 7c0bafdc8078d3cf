/**
 * What a KV bucket holds now, read without opening a consumer.
 *
 * `KV.keys()` (@nats-io/kv 3.4) opens an ordered push consumer for every listing and leaves it
 * on the broker, never reaped: a worker listing the runs bucket on each heartbeat left 1,800
 * consumers an hour, and a coordinator waiting for workers one every 200 ms. A listing whose
 * consumer is never delivered its message also waits, with no deadline, for a heartbeat. The
 * bucket's stream info, asked for its subjects, is one request with the client's timeout and
 * leaves nothing behind; one get per key then reads each entry (a deleted or purged key keeps a
 * marker under its subject until the bucket's TTL drops it, so the subjects alone overcount).
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV, KvEntry } from '@nats-io/kv';

/** The entries of `bucket` (named `name`) that hold a value now, by key. */
export async function liveEntries(
  jsm: JetStreamManager,
  bucket: KV,
  name: string,
): Promise<Map<string, KvEntry>> {
  const prefix = `$KV.${name}.`;
  const info = await jsm.streams.info(`KV_${name}`, { subjects_filter: `${prefix}>` });
  const keys = Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
  const entries = await Promise.all(keys.map((key) => bucket.get(key).catch(() => null)));
  const live = new Map<string, KvEntry>();
  for (const entry of entries) if (entry !== null && entry.operation === 'PUT') live.set(entry.key, entry);
  return live;
}
