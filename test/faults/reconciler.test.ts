// The reconciler: jobs whose queue work was lost (Redis data gone, a missed join, a failure never recorded) end.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startClusterWorker } from '../../services/cluster-worker/src/workers';
import { clusterFlow } from '../../services/embed-worker/src/scan.processor';
import { createLogger } from '@facesets/shared/logger';
import { QUEUE, bullJobId, createFlowProducer, deleteQueueKeys, workerConnection } from '@facesets/shared/queues';
import { insertScanJob, startApi, submit, waitForJob } from '../support/pipeline';
import { createTestEnv, type TestEnv } from '../support/test-env';
import { figure, queueWorkLeft, ready, supervise, type Supervised } from './support/faults';

let env: TestEnv;
let app: FastifyInstance;
let cluster: { close(): Promise<void> };
let embed: Supervised;

beforeAll(async () => {
  env = await createTestEnv({
    LOCK_DURATION_MS: '3000',
    STALLED_INTERVAL_MS: '1000',
    ENGINE_WORKERS: '1',
    EMBED_BATCH_SIZE: '3',
    RECONCILE_INTERVAL_MS: '500',
    RECONCILE_AFTER_MS: '1500',
    LOG_LEVEL: 'info',
  });
  app = await startApi(env);
  cluster = startClusterWorker({ config: env.config, db: env.db, log: createLogger('test-cluster', 'warn') });
});

afterEach(async () => {
  await embed?.stop();
});

afterAll(async () => {
  await cluster?.close();
  await app?.close();
  await env?.close();
});

describe('reconciler', () => {
  it('re-drives a job whose queue work vanished from Redis mid-embed; it completes with every file', { timeout: 240_000 }, async () => {
    const bucket = await env.largeBucket('vanish', 1);
    const id = await submit(app, { bucket, mode: 'scan' });
    // No embed worker yet: the scan waits; start one, let it fan out, then take it away and lose the queue data.
    embed = supervise('embed-worker', env.env);
    await ready(embed, 'embed worker ready');
    await waitForJob(app, id, { until: (j) => j.counters.embedded >= 3, timeoutMs: 120_000 });
    await embed.stop();
    await deleteQueueKeys(env.redis, env.config.queuePrefix);
    const lost = Date.now();
    embed = supervise('embed-worker', env.env);
    const job = await waitForJob(app, id, { timeoutMs: 180_000 });
    figure('queue data lost mid-embed -> job completed', Date.now() - lost);
    expect(job.state).toBe('completed');
    const { rows } = await env.db.query(
      'SELECT count(*) FILTER (WHERE processed_at IS NULL) AS unprocessed, count(*) AS n FROM job_sources WHERE job_id = $1',
      [id],
    );
    expect(rows[0].unprocessed).toBe(0);
    expect(job.counters.embedded).toBe(rows[0].n);
    expect(await queueWorkLeft(env.config.redisUrl, env.config.queuePrefix)).toEqual({});
  });

  it('runs the cluster stage of a job whose parent waits for a batch that is gone while Postgres has every file (missed join)', { timeout: 60_000 }, async () => {
    const bucket = await env.largeBucket('join', 1);
    const job = await insertScanJob(env, bucket);
    // The flow's parent waits for one batch; the batch vanishes from Redis without telling the parent.
    const flow = createFlowProducer(env.redis, env.config.queuePrefix);
    await flow.add(clusterFlow(job.id, [[{ sha256: '00'.repeat(32), path: join(bucket, 'none.jpg') }]]));
    await flow.close();
    const child = bullJobId.embed(job.id, 0);
    await env.redis.del(`${env.config.queuePrefix}:embed:${child}`);
    await env.redis.lrem(`${env.config.queuePrefix}:embed:wait`, 0, child);
    await env.db.query(
      `UPDATE jobs SET state = 'embedding', scanned_at = now(), updated_at = now() - interval '1 hour' WHERE id = $1`,
      [job.id],
    );
    const joined = Date.now();
    const ended = await waitForJob(app, job.id, { timeoutMs: 30_000 });
    figure('missed join -> job completed', Date.now() - joined);
    expect(ended.state).toBe('completed');
    expect(await queueWorkLeft(env.config.redisUrl, env.config.queuePrefix)).toEqual({});
  });

  it('fails a job whose scan failed for good where the failure was never recorded', { timeout: 60_000 }, async () => {
    const bucket = await env.largeBucket('orphan', 1);
    const job = await insertScanJob(env, bucket);
    // The scan fails for good in a worker whose failure never reaches Postgres; then the row says scanning, idle.
    const connection = workerConnection(env.config.redisUrl);
    const lost = new Worker(
      QUEUE.scan,
      async () => {
        throw new UnrecoverableError('the bucket vanished');
      },
      { connection, prefix: env.config.queuePrefix },
    );
    const failed = new Promise((r) => lost.once('failed', r));
    const queue = new Queue(QUEUE.scan, { connection: env.redis, prefix: env.config.queuePrefix });
    await queue.add(QUEUE.scan, { jobId: job.id }, { jobId: bullJobId.scan(job.id), attempts: 1 });
    await failed;
    await lost.close();
    await queue.close();
    await connection.quit();
    await env.db.query(`UPDATE jobs SET state = 'scanning', updated_at = now() - interval '1 hour' WHERE id = $1`, [job.id]);
    const ended = await waitForJob(app, job.id, { timeoutMs: 30_000 });
    expect(ended.state).toBe('failed');
    expect(ended.error).toBe('scan failed: the bucket vanished');
  });
});
