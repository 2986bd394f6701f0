// The contract every OutputRootLock meets, shared by the in-memory and the Postgres lock tests.
import { expect } from 'vitest';
import type { OutputRootLock } from '@facesets/shared/db/locks.repository';

/** Two holders of one key never overlap; different keys do not wait on each other. */
export async function checkExclusive(lock: OutputRootLock, key: string, other: string): Promise<void> {
  const log: string[] = [];
  const hold = (name: string, k: string, ms: number) =>
    lock.withLock(k, async () => {
      log.push(`${name}+`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name}-`);
      return name;
    });
  const results = await Promise.all([hold('a', key, 60), hold('b', key, 10), hold('c', other, 10)]);
  expect(results).toEqual(['a', 'b', 'c']);
  const at = (e: string): number => log.indexOf(e);
  // Holders of one key may be served in any order, but never overlap.
  expect(at('a-') < at('b+') || at('b-') < at('a+'), log.join(' ')).toBe(true);
  // A holder of another key did not wait for them.
  expect(at('c-'), log.join(' ')).toBeLessThan(Math.max(at('a-'), at('b-')));
}


/** A waiter with a bound gives up with OutputRootBusyError naming the root; the holder and later callers go on. */
export async function checkBoundedWait(lock: OutputRootLock, key: string): Promise<void> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const holder = lock.withLock(key, () => held.then(() => 'holder'));
  await new Promise((r) => setTimeout(r, 20));
  const started = Date.now();
  await expect(lock.withLock(key, async () => 'never', { waitMs: 100 })).rejects.toMatchObject({ name: 'OutputRootBusyError', outputRoot: key });
  const waited = Date.now() - started;
  expect(waited).toBeGreaterThanOrEqual(90);
  expect(waited).toBeLessThan(2_000);
  const next = lock.withLock(key, async () => 'next', { waitMs: 5_000 });
  release();
  await expect(holder).resolves.toBe('holder');
  await expect(next).resolves.toBe('next');
}
