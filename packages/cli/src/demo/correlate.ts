/**
 * Merges the sightings of one device into one row. Within a batch this is done here; across
 * batches and runs the database does the same merge in its upsert (store.ts), so a device's row
 * ends up the same whatever order its providers were fetched in, and a second run changes nothing.
 */
import type { Asset } from './normalize.js';

/** One device, merged from every provider that reported it. */
export interface DeviceRow {
  readonly id: string;
  serial: string | null;
  mac: string | null;
  readonly hostname: string;
  ip: string | null;
  os: string | null;
  /** The latest sighting, ISO 8601. */
  lastSeen: string;
  /** Provider names, sorted, each once. */
  providers: string[];
}

export function correlate(assets: readonly Asset[]): DeviceRow[] {
  const rows = new Map<string, DeviceRow>();
  for (const a of assets) {
    const row = rows.get(a.id);
    if (row === undefined) {
      rows.set(a.id, {
        id: a.id,
        serial: a.serial,
        mac: a.mac,
        hostname: a.hostname,
        ip: a.ip,
        os: a.os,
        lastSeen: a.lastSeen,
        providers: [a.provider],
      });
      continue;
    }
    row.serial ??= a.serial;
    row.mac ??= a.mac;
    row.ip ??= a.ip;
    row.os ??= a.os;
    if (a.lastSeen > row.lastSeen) row.lastSeen = a.lastSeen;
    if (!row.providers.includes(a.provider)) row.providers.push(a.provider);
  }
  const merged = [...rows.values()];
  for (const row of merged) row.providers.sort();
  return merged;
}
