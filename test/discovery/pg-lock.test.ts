// The Postgres advisory lock against a real server: exclusive per output root across connections.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '@facesets/shared/db/pool';
import { createPgAdvisoryLock } from '@facesets/shared/db/locks.repository';
import { checkExclusive } from './lock-contract';
import { testServices } from '../support/services';

let db: Db;

beforeAll(async () => {
  const services = await testServices();
  db = createDb(services.adminDatabaseUrl, { max: 6 });
});

afterAll(async () => {
  await db?.end();
});

describe('Postgres output root lock', () => {
  it('serialises holders of one output root, across pool clients', async () => {
    const key = `/tmp/facesets-lock-test-${process.pid}`;
    await checkExclusive(createPgAdvisoryLock(db), key, `${key}-other`);
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
