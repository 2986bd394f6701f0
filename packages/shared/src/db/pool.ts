// Creates the pg connection pool every service shares, with bigint counts parsed as numbers.
import pg from 'pg';

export type Db = pg.Pool;
export type DbClient = pg.PoolClient;

// COUNT(*) and SUM() return int8/numeric; every count here fits in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

export function createDb(databaseUrl: string, opts: { max?: number; applicationName?: string; connectionTimeoutMillis?: number } = {}): Db {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'facesets',
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 10_000,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * The small pool of output-root lock sessions (createPgAdvisoryLock): one session per root held at a time, apart
 * from the service's own pool so that lock holders and waiters never take the clients the work needs.
 */
export function createLockDb(databaseUrl: string, applicationName: string): Db {
  return createDb(databaseUrl, { max: 16, applicationName });
}

/** Runs `fn` in one transaction on one client; rolls back on any error. */
export async function inTransaction<T>(db: Db, fn: (client: DbClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
