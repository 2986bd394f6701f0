// Runs the pipeline in-process for a test: the API via inject(), embed and cluster workers with the real engine.
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../services/api/src/app';
import type { ClusterDeps } from '../../services/cluster-worker/src/cluster.processor';
import { startClusterWorker } from '../../services/cluster-worker/src/workers';
import { startEmbedWorkers } from '../../services/embed-worker/src/workers';
import { JobsRepository, type JobRecord } from '@facesets/shared/db/jobs.repository';
import { EnginePool, enginePoolOptions } from '@facesets/shared/engine/pool';
import { createLogger } from '@facesets/shared/logger';
import type { ClusterMetrics, EmbedMetrics } from '@facesets/shared/metrics/metrics';
import type { JobCounters, JobProgress } from '@facesets/shared/jobs/state';
import { withDefaults } from '@facesets/shared/params';
import type { TestEnv } from './test-env';

export interface InProcessWorkers {
  close(): Promise<void>;
}

let engine: Promise<EnginePool> | null = null;

/** One engine per test file: loading the models into the worker threads takes seconds. */
export function sharedEngine(env: TestEnv): Promise<EnginePool> {
  engine ??= EnginePool.create(enginePoolOptions(env.config));
  return engine;
}

export async function closeSharedEngine(): Promise<void> {
  if (engine) await (await engine).close();
  engine = null;
}

export interface WorkerOptions {
  discoverOrExtend?: ClusterDeps['discoverOrExtend'];
  /** The workers' Prometheus metrics, as their main.ts wires them. */
  metrics?: { embed?: EmbedMetrics; cluster?: ClusterMetrics };
}

export async function startWorkers(env: TestEnv, opts: WorkerOptions = {}): Promise<InProcessWorkers> {
  const log = createLogger('test-workers', env.config.logLevel);
  const embedMetrics = opts.metrics?.embed;
  const clusterMetrics = opts.metrics?.cluster;
  const embed = startEmbedWorkers({ config: env.config, db: env.db, engine: await sharedEngine(env), log, ...(embedMetrics ? { metrics: embedMetrics } : {}) });
  const cluster = startClusterWorker({
    config: env.config, db: env.db, log, discoverOrExtend: opts.discoverOrExtend, ...(clusterMetrics ? { metrics: clusterMetrics } : {}),
  });
  return {
    async close() {
      await Promise.all([embed.close(), cluster.close()]);
    },
  };
}

export function startApi(env: TestEnv): Promise<FastifyInstance> {
  return buildApp({ config: env.config });
}

export interface JobBody {
  id: string;
  state: string;
  phase: string | null;
  counters: JobCounters;
  progress: JobProgress;
  error: string | null;
  summary: Record<string, unknown> | null;
}

export async function submit(app: FastifyInstance, body: Record<string, unknown>): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/jobs', payload: body });
  if (res.statusCode !== 202) throw new Error(`POST /jobs answered ${res.statusCode}: ${res.body}`);
  return res.json<{ id: string }>().id;
}

export async function getJob(app: FastifyInstance, id: string): Promise<JobBody> {
  const res = await app.inject({ method: 'GET', url: `/jobs/${id}` });
  if (res.statusCode !== 200) throw new Error(`GET /jobs/${id} answered ${res.statusCode}: ${res.body}`);
  return res.json<JobBody>();
}

/** Polls until the job reaches one of `states` (default: any terminal state). */
export async function waitForJob(
  app: FastifyInstance,
  id: string,
  opts: { states?: string[]; timeoutMs?: number; until?: (job: JobBody) => boolean } = {},
): Promise<JobBody> {
  const states = opts.states ?? ['completed', 'failed', 'cancelled'];
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    const job = await getJob(app, id);
    if (opts.until ? opts.until(job) : states.includes(job.state)) return job;
    if (opts.until && ['completed', 'failed', 'cancelled'].includes(job.state)) {
      throw new Error(`job ${id} ended (${job.state}) before the awaited condition: ${JSON.stringify(job.counters)}`);
    }
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state} (${JSON.stringify(job.counters)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A scan job's row as POST /jobs writes it (default params), with nothing queued: for tests that drive a stage by hand. */
export async function insertScanJob(env: TestEnv, bucket: string): Promise<JobRecord> {
  const { job } = await new JobsRepository(env.db).create({
    mode: 'scan',
    bucket,
    outputRoot: null,
    params: withDefaults({}),
    force: false,
    callbackUrl: null,
    idempotencyKey: null,
    requestHash: null,
  });
  return job;
}
