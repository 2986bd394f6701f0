// The cluster worker's counters move with what really happens: callbacks delivered, retried and given up on by the real
// callback worker; the reconciler's actions on jobs whose queue work was lost or failed behind their backs.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@facesets/shared/logger';
import { ClusterMetrics, createRegistry } from '@facesets/shared/metrics/metrics';
import { QUEUE, bullJobId, createFlowProducer, workerConnection, type CallbackPayload } from '@facesets/shared/queues';
import { startClusterWorker } from '../../services/cluster-worker/src/workers';
import { clusterFlow } from '../../services/embed-worker/src/scan.processor';
import { insertScanJob, startApi, waitForJob } from '../support/pipeline';
import { createTestEnv, type TestEnv } from '../support/test-env';

let env: TestEnv;
let app: FastifyInstance;
let registry: Registry;
let cluster: { close(): Promise<void> };
let receiver: Server;
let receiverUrl = '';

/** The value of one sample line of the registry's exposition, e.g. `facesets_callbacks_total{result="delivered"}`. */
async function sample(line: string): Promise<number> {
  const text = await registry.metrics();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  if (!found) throw new Error(`no sample ${line}`);
  return Number(found.slice(line.length + 1));
}

beforeAll(async () => {
  env = await createTestEnv({ RECONCILE_INTERVAL_MS: '300', RECONCILE_AFTER_MS: '1000' });
  app = await startApi(env);
  registry = createRegistry();
  cluster = startClusterWorker({ config: env.config, db: env.db, log: createLogger('test-cluster', 'warn'), metrics: new ClusterMetrics(registry) });
  // /ok answers 204; /down answers 503 (the delivery is retried, then given up).
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(req.url === '/ok' ? 204 : 503).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await cluster?.close();
  await app?.close();
  receiver?.close();
  await env?.close();
});

describe('cluster worker metrics', () => {
  it('count callback deliveries: delivered, retrying, failed', async () => {
    const queue = new Queue<CallbackPayload>(QUEUE.callback, { connection: env.redis, prefix: env.config.queuePrefix });
    const body = JSON.stringify({ outputRoot: '/x', jobId: 'j', added: [], extended: [] });
    await queue.add(QUEUE.callback, { jobId: 'ok-job', url: `${receiverUrl}/ok`, body }, { jobId: 'callback-ok' });
    await queue.add(QUEUE.callback, { jobId: 'down-job', url: `${receiverUrl}/down`, body }, { jobId: 'callback-down', attempts: 3, backoff: { type: 'fixed', delay: 50 } });
    await expect.poll(() => sample('facesets_callbacks_total{result="failed"}'), { timeout: 15_000, interval: 100 }).toBe(1);
    expect(await sample('facesets_callbacks_total{result="delivered"}')).toBe(1);
    expect(await sample('facesets_callbacks_total{result="retrying"}')).toBe(2);
    await queue.close();
  });

  it('count the reconciler\'s re-drive of a missed join and its failing of a job whose scan failed unrecorded', { timeout: 60_000 }, async () => {
    // A missed join: the parent waits for a batch that vanished from Redis while Postgres has every file.
    const joinJob = await insertScanJob(env, await env.fixtureBucket('join', 'misc'));
    const flow = createFlowProducer(env.redis, env.config.queuePrefix);
    await flow.add(clusterFlow(joinJob.id, [[{ sha256: '00'.repeat(32), path: join(env.bucketsDir, 'join', 'none.jpg') }]]));
    await flow.close();
    const child = bullJobId.embed(joinJob.id, 0);
    await env.redis.del(`${env.config.queuePrefix}:embed:${child}`);
    await env.redis.lrem(`${env.config.queuePrefix}:embed:wait`, 0, child);
    await env.db.query(`UPDATE jobs SET state = 'embedding', scanned_at = now(), updated_at = now() - interval '1 hour' WHERE id = $1`, [joinJob.id]);

    // A scan that failed for good in a worker whose failure never reached Postgres.
    const orphan = await insertScanJob(env, await env.fixtureBucket('orphan', 'misc'));
    const connection = workerConnection(env.config.redisUrl);
    const lost = new Worker(QUEUE.scan, async () => {
      throw new UnrecoverableError('the bucket vanished');
    }, { connection, prefix: env.config.queuePrefix });
    const failed = new Promise((r) => lost.once('failed', r));
    const scans = new Queue(QUEUE.scan, { connection: env.redis, prefix: env.config.queuePrefix });
    await scans.add(QUEUE.scan, { jobId: orphan.id }, { jobId: bullJobId.scan(orphan.id), attempts: 1 });
    await failed;
    await lost.close();
    await scans.close();
    await connection.quit();
    await env.db.query(`UPDATE jobs SET state = 'scanning', updated_at = now() - interval '1 hour' WHERE id = $1`, [orphan.id]);

    expect((await waitForJob(app, joinJob.id, { timeoutMs: 30_000 })).state).toBe('completed');
    expect((await waitForJob(app, orphan.id, { timeoutMs: 30_000 })).state).toBe('failed');
    await expect.poll(() => sample('facesets_reconciler_actions_total{action="fail"}'), { timeout: 5_000, interval: 100 }).toBe(1);
    expect(await sample('facesets_reconciler_actions_total{action="redrive"}')).toBe(1);
    expect(await sample('facesets_reconciler_actions_total{action="callback"}')).toBe(0);
    // The re-driven cluster stage of the scan job was timed as no step (a scan job has none); no discovery either.
    expect(await sample('facesets_discovery_faces_count')).toBe(0);
  });
});
