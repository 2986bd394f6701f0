// Per-output-root mutual exclusion: a Postgres advisory lock across processes and hosts, an in-memory one for tests.
import type { Db } from './pool';

export interface OutputRootLock {
  /** Runs fn while no other holder of the same key (the output root's real path) runs. */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** Serialises callers of one process per key; enough for tests and single-process use. */
export function createInMemoryLock(): OutputRootLock {
  const tails = new Map<string, Promise<unknown>>();
  return {
    async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const before = tails.get(key) ?? Promise.resolve();
      const run = before.then(fn, fn);
      const tail = run.catch(() => undefined);
      tails.set(key, tail);
      try {
        return await run;
      } finally {
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
  };
}

/**
 * Session-level advisory lock on a dedicated pooled client, keyed by hashtextextended(realpath, 0): every cluster
 * worker of every host agrees on it. The lock dies with the session, so a crashed worker never leaves it held.
 */
export function createPgAdvisoryLock(db: Db): OutputRootLock {
  return {
    async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const client = await db.connect();
      let healthy = true;
      try {
        try {
          await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
        } catch (err) {
          healthy = false;
          throw new Error(`cannot lock output root ${key}: ${(err as Error).message}`, { cause: err });
        }
        try {
          return await fn();
        } finally {
          // A client that cannot unlock must not go back to the pool still holding the lock: destroy it instead.
          await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => {
            healthy = false;
          });
        }
      } finally {
        client.release(!healthy);
      }
    },
  };
}
