/**
 * The default store: one SQLite file (better-sqlite3), in WAL mode. See store.ts for the contract.
 *
 * better-sqlite3 is synchronous: a transaction of 5,000 upserts holds its thread for about 100 ms.
 * On the main thread that would stall every fetch in flight, so batches are written by a worker
 * thread of their own (a one-worker WorkerPool running sqlite-write.task.ts), and the load stage
 * only waits for it, as it would for a database server.
 */
import { resolve } from 'node:path';
import { WorkerPool } from 'sluice';
import { openSqliteDatabase } from './sqlite-database.js';
import type { SqliteWrite } from './sqlite-write.task.js';
import type { DeviceStore } from './store.js';

export function openSqliteStore(path: string, table: string): DeviceStore {
  const location = resolve(path);
  // Made here first, so the schema exists before the writer opens the file.
  const db = openSqliteDatabase(location, table);
  // One writer: SQLite takes one at a time, and batches then land in order.
  const writer = new WorkerPool<SqliteWrite, number>(new URL('./sqlite-write.task.js', import.meta.url), {
    workers: 1,
    // The writes are what must stay off the event loop: never on the calling thread.
    headStart: false,
  });
  // The batch being written. A stopped run does not wait for it, but the store does: it is
  // committed whole before the counts are read or the writer is stopped.
  let writing: Promise<unknown> = Promise.resolve();
  return {
    location,
    write: (rows) => {
      const written = writer.run({ location, table, rows });
      writing = written.catch(() => undefined);
      return written.then(() => undefined);
    },
    counts: async () => {
      await writing;
      return db.counts();
    },
    close: async () => {
      await writing;
      await writer.close();
      db.close();
    },
  };
}
