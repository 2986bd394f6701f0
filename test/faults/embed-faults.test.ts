// Embed stage under faults: kill -9 ×3 on one batch, a poison file that crashes the worker, Postgres and Redis outages.
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startClusterWorker } from '../../services/cluster-worker/src/workers';
import { CRASHED_TWICE } from '../../services/embed-worker/src/embed.processor';
import { loadConfig } from '@facesets/shared/config';
import { createDb } from '@facesets/shared/db/pool';
import { createLogger } from '@facesets/shared/logger';
import { getJob, startApi, submit, waitForJob } from '../support/pipeline';
import { FIXTURES_DIR, createTestEnv, type TestEnv } from '../support/test-env';
import { eventually, figure, queueWorkLeft, ready, supervise, type Supervised } from './support/faults';
import { hostPort, startTcpProxy, type TcpProxy } from './support/tcp-proxy';

let env: TestEnv;
let app: FastifyInstance;
const running: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  // Short locks: a killed worker's batch is picked up again within seconds.
  env = await createTestEnv({
    LOCK_DURATION_MS: '3000',
    STALLED_INTERVAL_MS: '1000',
    ENGINE_WORKERS: '1',
    LOG_LEVEL: 'info',
  });
  app = await startApi(env);
});

afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

afterAll(async () => {
  await app?.close();
  await env?.close();
});

function inProcessClusterWorker(overrides: Record<string, string> = {}): void {
  const config = loadConfig({ ...process.env, ...env.env, ...overrides });
  const db = createDb(config.databaseUrl, { max: 4 });
  const worker = startClusterWorker({ config, db, log: createLogger('test-cluster', 'warn') });
  running.push({ stop: async () => (await worker.close(), await db.end()) });
}

function embedWorkers(overrides: Record<string, string> = {}): Supervised {
  const s = supervise('embed-worker', { ...env.env, ...overrides });
  running.push(s);
  return s;
}

/** `n` distinct photos from the fixtures (trailing bytes make each copy new content: nothing cached), as a new bucket. */
async function photoBucket(name: string, n: number): Promise<string> {
  const dest = join(env.bucketsDir, name);
  await mkdir(dest, { recursive: true });
  const photos = (await readdir(FIXTURES_DIR, { recursive: true })).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
  for (let i = 0; i < n; i++) {
    const photo = photos[i % photos.length] as string;
    const bytes = await readFile(join(FIXTURES_DIR, photo));
    await writeFile(join(dest, `${i}_${photo.replaceAll('/', '__')}`), Buffer.concat([bytes, Buffer.from(`${name}:${i}`)]));
  }
  return dest;
}

async function exactCounters(id: string) {
  const { rows } = await env.db.query(
    `SELECT count(*) AS sources, count(*) FILTER (WHERE processed_at IS NULL) AS unprocessed FROM job_sources WHERE job_id = $1`,
    [id],
  );
  return rows[0] as { sources: number; unprocessed: number };
}

describe('embed worker kill -9 ×3 on one batch (finding 2)', () => {
  it('fails the job with a reason once BullMQ gives the batch up', { timeout: 300_000 }, async () => {
    inProcessClusterWorker();
    const bucket = await photoBucket('kill3', 40);
    const workers = embedWorkers({ EMBED_BATCH_SIZE: '500', EMBED_CONCURRENCY: '1' });
    await ready(workers, 'embed worker ready');
    const id = await submit(app, { bucket, mode: 'scan' });
    let lastKill = 0;
    for (let kill = 1; kill <= 3; kill++) {
      const before = (await getJob(app, id)).counters.embedded;
      // The batch runs again (in a new worker) and records a file or two before each kill.
      await waitForJob(app, id, { until: (j) => j.counters.embedded >= before + 2, timeoutMs: 120_000 });
      await workers.kill9();
      lastKill = Date.now();
      if (kill < 3) await eventually('a new embed worker', async () => (workers.children.length > kill ? true : undefined));
    }
    const job = await waitForJob(app, id, { timeoutMs: 120_000 });
    figure('kill -9 x3 on one batch -> job failed', Date.now() - lastKill);
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/^embed batch 0 failed: the worker running it died 3 times/);
    expect(await queueWorkLeft(env.config.redisUrl, env.config.queuePrefix)).toEqual({});
  });
});

describe('a poison file that crashes the decoder', () => {
  it('becomes an error record after two crashes; its batch and the job go on', { timeout: 300_000 }, async () => {
    inProcessClusterWorker();
    const bucket = await photoBucket('poison', 10);
    await copyFile(join(FIXTURES_DIR, 'misc', 'white.png'), join(bucket, 'poison.png'));
    // Two batches in flight at once: the file beside the poison one is in flight at the first crash too.
    const workers = embedWorkers({ EMBED_BATCH_SIZE: '3', EMBED_CONCURRENCY: '2', FACESETS_TEST_CRASH_ON: 'poison.png' });
    const id = await submit(app, { bucket, mode: 'scan' });
    const job = await waitForJob(app, id, { timeoutMs: 240_000 });
    expect(job.state, workers.output().slice(-3000)).toBe('completed');
    expect(workers.crashes).toBe(2);
    const { rows } = await env.db.query(
      `SELECT js.path, js.outcome, js.reason FROM job_sources js WHERE js.job_id = $1 ORDER BY js.path`,
      [id],
    );
    const poison = rows.find((r) => r.path.endsWith('poison.png'));
    expect(poison).toMatchObject({ outcome: 'error', reason: CRASHED_TWICE });
    // Nothing else was sacrificed: every other file has its real outcome.
    expect(rows.filter((r) => r.outcome === 'error'), JSON.stringify(rows)).toHaveLength(1);
    expect(rows.every((r) => r.outcome !== null)).toBe(true);
    expect(job.counters.errors).toBe(1);
    expect(job.counters.found).toBe(11);
    expect(job.counters.embedded).toBe(rows.length);
    expect(await queueWorkLeft(env.config.redisUrl, env.config.queuePrefix)).toEqual({});
  });
});

describe('outages of 10 s (finding 3)', () => {
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
  });

  for (const store of ['postgres', 'redis'] as const) {
    it(`a ${store} outage mid-embed: the job completes, every file recorded once`, { timeout: 300_000 }, async () => {
      const url = store === 'postgres' ? env.config.databaseUrl : env.config.redisUrl;
      proxy = await startTcpProxy(hostPort(url));
      const through: Record<string, string> = { [store === 'postgres' ? 'DATABASE_URL' : 'REDIS_URL']: proxy.urlFor(url) };
      inProcessClusterWorker(through);
      const bucket = await photoBucket(`outage-${store}`, 24);
      const workers = embedWorkers({ ...through, EMBED_BATCH_SIZE: '4', EMBED_CONCURRENCY: '2', LOCK_DURATION_MS: '30000' });
      await ready(workers, 'embed worker ready');
      const id = await submit(app, { bucket, mode: 'scan' });
      await waitForJob(app, id, { until: (j) => j.counters.embedded >= 4, timeoutMs: 120_000 });
      await proxy.cut(10_000);
      const restored = Date.now();
      const atRestore = (await getJob(app, id)).counters.embedded;
      await waitForJob(app, id, { until: (j) => j.counters.embedded > atRestore || j.state === 'completed', timeoutMs: 120_000 });
      figure(`${store} outage 10 s -> embedding resumed`, Date.now() - restored);
      const job = await waitForJob(app, id, { timeoutMs: 240_000 });
      figure(`${store} outage 10 s -> job completed`, Date.now() - restored);
      expect(job.state, workers.output().slice(-3000)).toBe('completed');
      expect(job.error).toBeNull();
      expect(workers.crashes).toBe(0);
      const db = await exactCounters(id);
      expect(db.unprocessed).toBe(0);
      expect(job.counters.found).toBe(24);
      expect(job.counters.embedded).toBe(db.sources);
      expect(await queueWorkLeft(env.config.redisUrl, env.config.queuePrefix)).toEqual({});
    });
  }
});
