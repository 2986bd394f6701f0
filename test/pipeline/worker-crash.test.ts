// An embed worker killed mid-job (SIGKILL): stalled-job recovery lets another finish, every file recorded once.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClusterWorker } from '../../services/cluster-worker/src/workers';
import { createLogger } from '@facesets/shared/logger';
import { startChildService, waitForOutput, type ChildService } from '../support/child-worker';
import { getJob, startApi, submit, waitForJob } from '../support/pipeline';
import { createTestEnv, type TestEnv } from '../support/test-env';

let env: TestEnv;
let app: FastifyInstance;
let cluster: { close(): Promise<void> };
const children: ChildService[] = [];

beforeAll(async () => {
  // A short lock so the dead worker's batches are recovered within seconds.
  env = await createTestEnv({
    EMBED_BATCH_SIZE: '6',
    EMBED_CONCURRENCY: '2',
    LOCK_DURATION_MS: '3000',
    STALLED_INTERVAL_MS: '1000',
    LOG_LEVEL: 'info',
  });
  app = await startApi(env);
  cluster = startClusterWorker({ config: env.config, db: env.db, log: createLogger('test-cluster', 'warn') });
});

afterAll(async () => {
  for (const child of children) await child.kill('SIGKILL');
  await cluster?.close();
  await app?.close();
  await env?.close();
});

function embedWorker(): ChildService {
  const child = startChildService('embed-worker', env.env);
  children.push(child);
  return child;
}

describe('embed worker crash', () => {
  it('completes the job after a SIGKILL mid-embed, with every file recorded exactly once', { timeout: 180_000 }, async () => {
    const bucket = await env.largeBucket('crash', 3);
    const first = embedWorker();
    await waitForOutput(first, 'embed worker ready');
    const id = await submit(app, { bucket, mode: 'scan' });
    const mid = await waitForJob(app, id, { until: (j) => j.counters.embedded >= 12, timeoutMs: 90_000 });
    await first.kill('SIGKILL');
    const atKill = await getJob(app, id);
    expect(atKill.state).toBe('embedding');
    const total = atKill.progress.stages.embed.total ?? 0;
    expect(atKill.counters.embedded).toBeLessThan(total);
    expect(mid.counters.embedded).toBeGreaterThanOrEqual(12);

    const second = embedWorker();
    const job = await waitForJob(app, id, { timeoutMs: 120_000 });
    expect(job.error).toBeNull();
    expect(job.state).toBe('completed');
    // The dead worker's active batches came back through stalled-job recovery.
    expect(second.output()).toMatch(/stalled job recovered/);

    // Exact counters: one per distinct source, matching what Postgres holds.
    const { rows } = await env.db.query(
      `SELECT count(*) AS sources, count(*) FILTER (WHERE processed_at IS NULL) AS unprocessed,
              count(*) FILTER (WHERE outcome = 'noface') AS noface, count(*) FILTER (WHERE outcome = 'error') AS errors,
              COALESCE(sum(faces), 0) AS faces
       FROM job_sources WHERE job_id = $1`,
      [id],
    );
    const db = rows[0];
    expect(db.unprocessed).toBe(0);
    expect(job.counters.embedded).toBe(db.sources);
    expect(job.counters.embedded).toBe(total);
    expect(job.counters.noface).toBe(db.noface);
    expect(job.counters.errors).toBe(db.errors);
    expect(job.counters.faces).toBe(db.faces);
    const faces = await env.db.query('SELECT count(*) AS n FROM faces');
    expect(faces.rows[0].n).toBe(db.faces);
    const sources = await env.db.query('SELECT count(*) AS n, sum(face_count) AS f FROM sources');
    expect(sources.rows[0].n).toBe(db.sources);
    expect(sources.rows[0].f).toBe(db.faces);
    await second.kill('SIGTERM');
  });

  it('hands its batches back on SIGTERM mid-job; the next worker finishes them without stall recovery', { timeout: 180_000 }, async () => {
    const bucket = await env.largeBucket('graceful', 2);
    const first = embedWorker();
    await waitForOutput(first, 'embed worker ready');
    const id = await submit(app, { bucket, mode: 'scan' });
    await waitForJob(app, id, { until: (j) => j.counters.embedded >= 6, timeoutMs: 90_000 });
    await first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('shutdown complete');
    const paused = await getJob(app, id);
    expect(paused.state).toBe('embedding');
    expect(paused.counters.embedded).toBeLessThan(paused.progress.stages.embed.total ?? 0);

    const second = embedWorker();
    const job = await waitForJob(app, id, { timeoutMs: 120_000 });
    expect(job.state).toBe('completed');
    expect(job.counters.embedded).toBe(job.progress.stages.embed.total);
    expect(second.output()).not.toMatch(/stalled job recovered/);
    await second.kill('SIGTERM');
  });

  it('stops gracefully on SIGTERM', async () => {
    const worker = embedWorker();
    await waitForOutput(worker, 'embed worker ready');
    await worker.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
    expect(worker.output()).toContain('shutdown complete');
  });

  it('refuses to start with an altered model pack', async () => {
    const { mkdtemp, cp, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(env.root, 'models-'));
    await cp(env.config.modelDir, dir, { recursive: true });
    await writeFile(join(dir, 'fr_landmark.onnx'), 'tampered');
    const worker = startChildService('embed-worker', { ...env.env, MODEL_DIR: dir });
    children.push(worker);
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toMatch(/fr_landmark\.onnx.*altered|could not start/);
  });
});
