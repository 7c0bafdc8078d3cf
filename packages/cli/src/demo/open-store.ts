/**
 * Opening the store `--db` names. Apart from the contract in store.ts, which the stores import:
 * the contract must not import the stores back.
 */
import type { DeviceStore } from './store.js';

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** Opens the store named by `--db`: a PostgreSQL URL, or else a SQLite file path. */
export async function openStore(target: string, table: string): Promise<DeviceStore> {
  if (isPostgresUrl(target)) {
    const { openPostgresStore } = await import('./postgres-store.js');
    return openPostgresStore(target, table);
  }
  const { openSqliteStore } = await import('./sqlite-store.js');
  return openSqliteStore(target, table);
}
