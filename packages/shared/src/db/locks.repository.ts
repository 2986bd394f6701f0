// Per-output-root mutual exclusion: a Postgres advisory lock across processes and hosts, an in-memory one for tests.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from './pool';

export interface LockOptions {
  /** Give up after this long waiting for the root's turn (OutputRootBusyError) [wait as long as it takes]. */
  waitMs?: number;
}

export interface OutputRootLock {
  /** Runs fn while no other holder of the same key (the output root's real path) runs. */
  withLock<T>(key: string, fn: () => Promise<T>, opts?: LockOptions): Promise<T>;
}

/** Another job or decision holds the output root longer than the caller may wait: retry later (409/429). */
export class OutputRootBusyError extends Error {
  constructor(
    readonly outputRoot: string,
    readonly waitedMs: number,
  ) {
    super(`output root ${outputRoot} is busy (another job or decision holds it; waited ${Math.round(waitedMs)} ms): retry later`);
    this.name = 'OutputRootBusyError';
  }
}

/**
 * One queue per key inside the process: callers wait here for their turn, holding nothing (no pooled client, no
 * timer beyond their own deadline). A caller whose deadline passes leaves the queue; the others keep their order.
 */
function createTurns() {
  const tails = new Map<string, Promise<void>>();
  return async function turn<T>(key: string, waitMs: number | undefined, fn: (deadline: number) => Promise<T>): Promise<T> {
    const started = performance.now();
    const deadline = waitMs === undefined ? Infinity : started + waitMs;
    const before = tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    // The next caller waits for this one's end, or for the one before when this one gives up without running.
    const tail = before.then(() => mine);
    tails.set(key, tail);
    try {
      if (deadline !== Infinity) {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          before.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), Math.max(0, deadline - performance.now())))),
        ]);
        clearTimeout(timer);
        if (timedOut) throw new OutputRootBusyError(key, performance.now() - started);
      } else {
        await before;
      }
      return await fn(deadline);
    } finally {
      release();
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

/** Serialises callers of one process per key; enough for tests and single-process use. */
export function createInMemoryLock(): OutputRootLock {
  const turn = createTurns();
  return {
    withLock: <T>(key: string, fn: () => Promise<T>, opts: LockOptions = {}) => turn(key, opts.waitMs, () => fn()),
  };
}

/** Backoff between tries of a lock another process holds: 10 ms doubling up to this. */
const TRY_MAX_MS = 200;

/**
 * Session-level advisory lock keyed by hashtextextended(realpath, 0): every worker of every host agrees on it. The
 * lock dies with the session, so a crashed worker never leaves it held.
 *
 * `db` should be a small pool of its own (createLockDb): a holder keeps one session of it for as long as it holds
 * the root, and the work it does meanwhile takes clients from the service's pool, so holders and waiters can never
 * starve each other. Waiters of this process queue in memory (one try per root at a time); against other processes
 * the lock is tried (pg_try_advisory_lock) with backoff, so no waiter sits in a blocking call on a pooled client.
 */
export function createPgAdvisoryLock(db: Db): OutputRootLock {
  const turn = createTurns();
  return {
    withLock<T>(key: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
      return turn(key, opts.waitMs, async (deadline) => {
        const started = performance.now();
        const client = await db.connect().catch((err: unknown) => {
          throw new Error(`cannot lock output root ${key}: ${(err as Error).message}`, { cause: err });
        });
        let healthy = true;
        try {
          for (let pause = 10; ; pause = Math.min(TRY_MAX_MS, pause * 2)) {
            let got: boolean;
            try {
              const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [key]);
              got = rows[0]!.ok;
            } catch (err) {
              healthy = false;
              throw new Error(`cannot lock output root ${key}: ${(err as Error).message}`, { cause: err });
            }
            if (got) break;
            if (performance.now() + pause > deadline) throw new OutputRootBusyError(key, performance.now() - started);
            await sleep(pause);
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
      });
    },
  };
}
