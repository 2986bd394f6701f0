// The Postgres advisory lock against a real server: exclusive per output root across connections.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '@facesets/shared/db/pool';
import { createPgAdvisoryLock } from '@facesets/shared/db/locks.repository';
import { checkBoundedWait, checkExclusive } from './lock-contract';
import { testServices } from '../support/services';

let db: Db;
let adminUrl: string;

beforeAll(async () => {
  const services = await testServices();
  adminUrl = services.adminDatabaseUrl;
  db = createDb(adminUrl, { max: 6 });
});

afterAll(async () => {
  await db?.end();
});

describe('Postgres output root lock', () => {
  it('serialises holders of one output root, across pool clients', async () => {
    const key = `/tmp/facesets-lock-test-${process.pid}`;
    await checkExclusive(createPgAdvisoryLock(db), key, `${key}-other`);
  });

  it('gives up after a bounded wait, naming the root', async () => {
    await checkBoundedWait(createPgAdvisoryLock(db), `/tmp/facesets-lock-busy-${process.pid}`);
  });

  it('never starves the pool the holders work with: 20 waiters, one 3-client pool for the lock and the work', async () => {
    // Before: waiters sat in pg_advisory_lock on clients of this pool, and the holder could not get one (services
    // now also give the lock a pool of its own; this is the harder case).
    const work = createDb(adminUrl, { max: 3, connectionTimeoutMillis: 3_000 });
    try {
      const lock = createPgAdvisoryLock(work);
      const key = `/tmp/facesets-lock-starve-${process.pid}`;
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          lock.withLock(key, async () => {
            // The holder needs two clients of the work pool at once, as a decision's transaction and reads do.
            const a = await work.connect();
            try {
              await Promise.all([a.query('SELECT pg_sleep(0.005)'), work.query('SELECT 1')]);
            } finally {
              a.release();
            }
            order.push(i);
          }, { waitMs: 30_000 }),
        ),
      );
      expect(order).toHaveLength(20);
      // Waiters of one process are served in arrival order.
      expect(order).toEqual([...order].sort((x, y) => x - y));
      // Another process holding the root: this one tries with backoff and answers busy at its bound.
      const other = await db.connect();
      try {
        await other.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
        await expect(lock.withLock(key, async () => 'never', { waitMs: 150 })).rejects.toMatchObject({ name: 'OutputRootBusyError' });
        await other.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
      } finally {
        other.release();
      }
      await expect(lock.withLock(key, async () => 'free', { waitMs: 1_000 })).resolves.toBe('free');
    } finally {
      await work.end();
    }
  });

  it('is released after a failure and the client goes back unlocked', async () => {
    const lock = createPgAdvisoryLock(db);
    const key = `/tmp/facesets-lock-fail-${process.pid}`;
    await expect(lock.withLock(key, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks
       WHERE locktype = 'advisory' AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
      [key],
    );
    expect(rows[0]!.n).toBe(0);
    await expect(lock.withLock(key, async () => 'again')).resolves.toBe('again');
  });
});
