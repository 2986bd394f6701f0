import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHeartbeat } from './lifecycle';
import { createLogger } from './logger';

describe('startHeartbeat', () => {
  it('writes the time and the status (e.g. the engine in use) while the check passes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'facesets-heartbeat-'));
    const file = join(dir, 'heartbeat');
    const stop = startHeartbeat(file, async () => undefined, createLogger('test', 'silent'), 60_000, () => ({
      engine: { executionProvider: 'cuda', ortVersion: '1.29.0', batchSize: 32 },
    }));
    try {
      await expect.poll(() => readFile(file, 'utf8').catch(() => ''), { timeout: 5_000 }).not.toBe('');
      const beat = JSON.parse(await readFile(file, 'utf8')) as { at: string; engine: unknown };
      expect(Date.now() - Date.parse(beat.at)).toBeLessThan(10_000);
      expect(beat.engine).toEqual({ executionProvider: 'cuda', ortVersion: '1.29.0', batchSize: 32 });
    } finally {
      stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
