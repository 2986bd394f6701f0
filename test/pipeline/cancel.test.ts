// Cancelling a running job: the running batch stops at its next file, queued batches are dropped, state stays cancelled.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSharedEngine, getJob, startApi, startWorkers, submit, waitForJob, type InProcessWorkers } from '../support/pipeline';
import { createTestEnv, type TestEnv } from '../support/test-env';

let env: TestEnv;
let app: FastifyInstance;
let workers: InProcessWorkers;

beforeAll(async () => {
  env = await createTestEnv({ EMBED_BATCH_SIZE: '4', ENGINE_WORKERS: '1', EMBED_CONCURRENCY: '1' });
  app = await startApi(env);
  workers = await startWorkers(env);
});

afterAll(async () => {
  await workers?.close();
  await app?.close();
  await closeSharedEngine();
  await env?.close();
});

describe('cancel', () => {
  it('stops a job that is embedding', { timeout: 180_000 }, async () => {
    const bucket = await env.largeBucket('large', 4);
    const id = await submit(app, { bucket, mode: 'scan' });
    await waitForJob(app, id, { until: (j) => j.counters.embedded >= 8, timeoutMs: 60_000 });
    const res = await app.inject({ method: 'DELETE', url: `/jobs/${id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json().state).toBe('cancelled');

    // The running batch finishes at most its current file; nothing else is embedded afterwards.
    await new Promise((r) => setTimeout(r, 1_500));
    const settled = await getJob(app, id);
    await new Promise((r) => setTimeout(r, 2_000));
    const later = await getJob(app, id);
    expect(later.state).toBe('cancelled');
    expect(later.counters.embedded).toBe(settled.counters.embedded);
    const total = later.progress.stages.embed.total ?? 0;
    expect(total).toBeGreaterThan(200);
    expect(later.counters.embedded).toBeLessThan(total / 2);

    const waiting = await app.queues.embed.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    expect(Object.values(waiting).reduce((a, b) => a + b, 0)).toBe(0);
    const report = await app.inject({ method: 'GET', url: `/jobs/${id}/report` });
    expect(report.statusCode).toBe(409);
  });

  it('keeps working for the next job', async () => {
    const bucket = await env.fixtureBucket('after-cancel', 'people/obama');
    const id = await submit(app, { bucket, mode: 'scan' });
    const job = await waitForJob(app, id);
    expect(job.state).toBe('completed');
    expect(job.counters).toMatchObject({ found: 4, aliases: 1 });
  });
});
