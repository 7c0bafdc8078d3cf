/**
 * The demo's SQLite file (better-sqlite3, WAL): the schema, the merging upsert and the counts.
 * Opened twice: by the writer thread, which loads batches, and by the main thread, which makes
 * the schema and reads the counts. WAL lets the reader read while the writer writes.
 */
import Database from 'better-sqlite3';
import type { DeviceRow } from './correlate.js';
import { mergeClause } from './store.js';

export interface SqliteDatabase {
  /** Writes one batch in one transaction: in the file whole, or not at all. */
  writeBatch(rows: readonly DeviceRow[]): void;
  counts(): { devices: number; correlated: number };
  close(): void;
}

export function openSqliteDatabase(location: string, table: string): SqliteDatabase {
  const db = new Database(location);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const loads = `${table}_loads`;
  db.exec(`
    CREATE TABLE IF NOT EXISTS "${loads}" (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      loaded_at TEXT NOT NULL,
      row_count INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS "${table}" (
      id TEXT PRIMARY KEY,
      serial TEXT,
      mac TEXT,
      hostname TEXT NOT NULL,
      ip TEXT,
      os TEXT,
      last_seen TEXT NOT NULL,
      providers TEXT NOT NULL,
      load_id INTEGER NOT NULL
    );`);
  const t = `"${table}"`;
  const logLoad = db.prepare(`INSERT INTO "${loads}" (loaded_at, row_count) VALUES (?, ?)`);
  const upsert = db.prepare(`
    INSERT INTO ${t} (id, serial, mac, hostname, ip, os, last_seen, providers, load_id)
    VALUES (@id, @serial, @mac, @hostname, @ip, @os, @lastSeen, @providers, @load)
    ${mergeClause(table, {
      later: (a, b) => `max(${a}, ${b})`,
      union: `(SELECT json_group_array(value) FROM (
        SELECT value FROM json_each(${t}.providers) UNION SELECT value FROM json_each(excluded.providers)
        ORDER BY value))`,
      grew: `EXISTS (SELECT 1 FROM json_each(excluded.providers) AS n
        WHERE n.value NOT IN (SELECT value FROM json_each(${t}.providers)))`,
    })}`);
  const writeBatch = db.transaction((rows: readonly DeviceRow[]) => {
    const load = Number(logLoad.run(new Date().toISOString(), rows.length).lastInsertRowid);
    for (const row of rows) upsert.run({ ...row, providers: JSON.stringify(row.providers), load });
  });
  const count = db.prepare(
    `SELECT count(*) AS devices, coalesce(sum(json_array_length(providers) > 1), 0) AS correlated FROM ${t}`,
  );

  return {
    writeBatch: (rows) => writeBatch(rows),
    counts: () => count.get() as { devices: number; correlated: number },
    close: () => {
      if (db.open) db.close();
    },
  };
}
