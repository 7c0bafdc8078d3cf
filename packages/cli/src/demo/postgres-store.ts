/** The PostgreSQL store (pg), for `--db postgres://...`. See store.ts for the contract. */
import pg from 'pg';
import type { DeviceRow } from './correlate.js';
import { type DeviceStore, mergeClause } from './store.js';

/** The URL without its password, to print. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.href;
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export async function openPostgresStore(url: string, table: string): Promise<DeviceStore> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const t = `"${table}"`;
  const loads = `"${table}_loads"`;
  try {
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${loads} (
        id bigserial PRIMARY KEY,
        loaded_at timestamptz NOT NULL DEFAULT now(),
        row_count integer NOT NULL
      );
      CREATE TABLE IF NOT EXISTS ${t} (
        id text PRIMARY KEY,
        serial text,
        mac text,
        hostname text NOT NULL,
        ip text,
        os text,
        last_seen timestamptz NOT NULL,
        providers text[] NOT NULL,
        load_id bigint NOT NULL
      );`);
  } catch (error) {
    await client.end();
    throw error;
  }
  // One statement a batch: the rows travel as one JSON parameter, whatever their number.
  const upsert = `
    INSERT INTO ${t} (id, serial, mac, hostname, ip, os, last_seen, providers, load_id)
    SELECT r.id, r.serial, r.mac, r.hostname, r.ip, r.os, r."lastSeen", r.providers, $2
    FROM jsonb_to_recordset($1::jsonb) AS r(id text, serial text, mac text, hostname text, ip text,
      os text, "lastSeen" timestamptz, providers text[])
    ${mergeClause(table, {
      later: (a, b) => `greatest(${a}, ${b})`,
      union: `ARRAY(SELECT DISTINCT p FROM unnest(${t}.providers || excluded.providers) AS p ORDER BY p)`,
      grew: `NOT (${t}.providers @> excluded.providers)`,
    })}`;
  let inFlight: Promise<void> = Promise.resolve();

  const writeBatch = async (rows: readonly DeviceRow[]): Promise<void> => {
    await client.query('BEGIN');
    try {
      const { rows: logged } = await client.query<{ id: string }>(
        `INSERT INTO ${loads} (row_count) VALUES ($1) RETURNING id`,
        [rows.length],
      );
      await client.query(upsert, [JSON.stringify(rows), logged[0]!.id]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  };

  return {
    location: `${redactUrl(url)} (tables ${table}, ${table}_loads)`,
    write: (rows) => {
      const write = writeBatch(rows);
      inFlight = write.catch(() => undefined);
      return write;
    },
    counts: async () => {
      const { rows } = await client.query<{ devices: string; correlated: string }>(
        `SELECT count(*) AS devices, count(*) FILTER (WHERE cardinality(providers) > 1) AS correlated FROM ${t}`,
      );
      return { devices: Number(rows[0]!.devices), correlated: Number(rows[0]!.correlated) };
    },
    // A batch whose COMMIT is under way finishes; one that never reaches it is rolled back by the
    // server when the connection ends. Either way, no half batch.
    close: async () => {
      await inFlight;
      await client.end();
    },
  };
}
