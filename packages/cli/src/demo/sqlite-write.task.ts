/** The demo's SQLite writer thread: see sqlite-store.ts. */
import { defineTask } from 'sluice/task';
import type { DeviceRow } from './correlate.js';
import { openSqliteDatabase, type SqliteDatabase } from './sqlite-database.js';

export interface SqliteWrite {
  readonly location: string;
  readonly table: string;
  readonly rows: readonly DeviceRow[];
}

/** The thread's connection, opened by the first batch. */
let database: SqliteDatabase | undefined;

export default defineTask<SqliteWrite, number>(({ location, table, rows }) => {
  database ??= openSqliteDatabase(location, table);
  database.writeBatch(rows);
  return rows.length;
});
