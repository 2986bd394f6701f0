import { describe, expect, it } from 'vitest';
import { checkBoundedWait, checkExclusive } from '../../../../test/discovery/lock-contract';
import { createInMemoryLock } from './locks.repository';

describe('in-memory output root lock', () => {
  it('serialises holders of one key', async () => {
    await checkExclusive(createInMemoryLock(), '/out/x', '/out/y');
  });

  it('gives up after a bounded wait, naming the root, and keeps the order of the others', async () => {
    await checkBoundedWait(createInMemoryLock(), '/out/busy');
  });

  it('releases the key when the holder throws', async () => {
    const lock = createInMemoryLock();
    await expect(lock.withLock('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.withLock('k', async () => 'next')).resolves.toBe('next');
  });
});
