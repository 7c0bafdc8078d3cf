/**
 * Where the demo loads devices: an embedded SQLite file by default, or PostgreSQL. Both keep the
 * same contract, which is what makes the load safe to interrupt and to repeat:
 *
 * - One transaction per batch. A batch is in the database whole or not at all, whenever the run
 *   is stopped.
 * - Upsert, merging. A device already present gets the union of the providers lists, the latest
 *   sighting, and any field it lacked; a row whose merge would change nothing is not written, so
 *   re-running the demo leaves every row as it was.
 * - A load log. Each batch adds one row to `<table>_loads` in its own transaction, and each device
 *   row names the load that last changed it: a device row pointing at a load that is not in the
 *   log would be the trace of a half-written batch.
 */
import type { DeviceRow } from './correlate.js';

export interface DeviceStore {
  /** Where the data is, for people: a file path, or a URL without its password. */
  readonly location: string;
  /** Writes one batch in one transaction. */
  write(rows: readonly DeviceRow[]): Promise<void>;
  /** Devices stored, and how many of them more than one provider reported. */
  counts(): Promise<{ devices: number; correlated: number }>;
  /** Waits for a write in flight, then closes. */
  close(): Promise<void>;
}

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

/** Table names are spliced into SQL, so only plain lower-case identifiers are accepted. */
export function isTableName(name: string): boolean {
  return identifier.test(name);
}

/** How one SQL dialect spells the parts of the merge that differ. */
export interface MergeDialect {
  /** The later of two timestamps. */
  readonly later: (a: string, b: string) => string;
  /** The sorted union of the stored providers list and the incoming one. */
  readonly union: string;
  /** True when the incoming providers list names one the stored row lacks. */
  readonly grew: string;
}

/**
 * The `ON CONFLICT` clause both stores use: merge into the stored row, and only when the merge
 * changes something, so that loading the same rows again writes nothing.
 */
export function mergeClause(table: string, dialect: MergeDialect): string {
  const t = `"${table}"`;
  const fill = ['serial', 'mac', 'ip', 'os'];
  return `ON CONFLICT (id) DO UPDATE SET
      ${fill.map((c) => `${c} = coalesce(${t}.${c}, excluded.${c}),`).join('\n      ')}
      last_seen = ${dialect.later(`${t}.last_seen`, 'excluded.last_seen')},
      providers = ${dialect.union},
      load_id = excluded.load_id
    WHERE excluded.last_seen > ${t}.last_seen
      ${fill.map((c) => `OR (${t}.${c} IS NULL AND excluded.${c} IS NOT NULL)`).join('\n      ')}
      OR ${dialect.grew}`;
}
