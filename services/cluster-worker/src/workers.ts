// Wiring of the cluster-worker process: the cluster and callback BullMQ workers around their processors, and the
// per-process resources of the cluster steps (GEMM kernel, advisory lock, manifest publisher, callback producer).
import { availableParallelism } from 'node:os';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '@facesets/shared/config';
import { distributedLinkage } from '@facesets/shared/clustering/distributed-linkage';
import { createOrtDotKernel } from '@facesets/shared/clustering/ort-dot-kernel';
import { ClusterPartsRepository } from '@facesets/shared/db/cluster-parts.repository';
import { FacesRepository } from '@facesets/shared/db/faces.repository';
import { JobsRepository } from '@facesets/shared/db/jobs.repository';
import { createPgAdvisoryLock } from '@facesets/shared/db/locks.repository';
import { createLockDb, type Db } from '@facesets/shared/db/pool';
import { ReportsRepository } from '@facesets/shared/db/reports.repository';
import { SourcesRepository } from '@facesets/shared/db/sources.repository';
import { createRedisManifestPublisher, manifestChannel } from '@facesets/shared/events/manifest-events';
import { IdentityService } from '@facesets/shared/identities/identity-service';
import { decodeImage } from '@facesets/shared/image/decode';
import { modelPackId } from '@facesets/shared/models/model-pack';
import {
  MAX_STALLED_COUNT,
  closeWorker,
  failedForGood,
  failureReason,
  withInfraPatience,
  workerOptions,
  writePatiently,
} from '@facesets/shared/jobs/bull';
import type { Logger } from '@facesets/shared/logger';
import type { ClusterMetrics } from '@facesets/shared/metrics/metrics';
import { bullTelemetry } from '@facesets/shared/telemetry/bullmq-telemetry';
import {
  CALLBACK_JOB_OPTIONS,
  QUEUE,
  bullJobId,
  createQueue,
  producerConnection,
  workerConnection,
  type CallbackPayload,
  type ClusterPartPayload,
  type ClusterPayload,
} from '@facesets/shared/queues';
import { processCallback } from './callback.processor';
import { processCluster, type ClusterDeps } from './cluster.processor';
import { processClusterPart } from './cluster-part.processor';
import { createPartRunner } from './part-runner';
import { startReconciler, type PassResult, type ReconcilerDeps } from './reconciler';

export interface ClusterWorkerDeps {
  config: Config;
  db: Db;
  log: Logger;
  /** Replaces the discover/extend steps (tests of the stage seam). */
  discoverOrExtend?: ClusterDeps['discoverOrExtend'];
  /** Prometheus metrics of this process (main.ts; absent in tests that do not look). */
  metrics?: ClusterMetrics;
}

export interface RunningWorkers {
  close(): Promise<void>;
}

export function startClusterWorker({ config, db, log, discoverOrExtend, metrics }: ClusterWorkerDeps): RunningWorkers {
  const jobs = new JobsRepository(db);
  const reports = new ReportsRepository(db);
  const faces = new FacesRepository(db);
  const sources = new SourcesRepository(db);
  const connection = workerConnection(config.redisUrl);
  // Publishing and queueing callbacks fail fast: a Redis hiccup must not hold a finished job up (both are best effort).
  const producer = producerConnection(config.redisUrl);
  producer.on('error', (err) => log.debug({ err: err.message }, 'redis producer connection error'));
  const callbacks = new Queue<CallbackPayload>(QUEUE.callback, { connection: producer, prefix: config.queuePrefix, ...bullTelemetry() });
  callbacks.on('error', (err) => log.debug({ err: err.message }, 'callback queue error'));
  const parts = new ClusterPartsRepository(db);
  const partQueue = new Queue<ClusterPartPayload>(QUEUE.clusterPart, { connection: producer, prefix: config.queuePrefix, ...bullTelemetry() });
  partQueue.on('error', (err) => log.debug({ err: err.message }, 'cluster-part queue error'));
  // One GEMM session per process, shared by every job this worker runs; closed on shutdown.
  const kernel = createOrtDotKernel({ threads: Math.min(4, availableParallelism()) });
  const lockDb = createLockDb(config.databaseUrl, 'facesets-cluster-locks');
  const lock = createPgAdvisoryLock(lockDb);
  const publish = createRedisManifestPublisher(producer, manifestChannel(config.queuePrefix, config.redisUrl));
  const decode = (path: string) => decodeImage(path, { maxPixels: config.maxImagePixels });
  const deps: ClusterDeps = {
    jobs,
    reports,
    faces,
    imports: { folderPaths: (jobId) => sources.folderPaths(jobId), captureTimesOf: (shas, pack) => faces.captureTimesOf(shas, pack) },
    identities: new IdentityService({ db, lock, decodeImage: decode, publish, log, modelPack: modelPackId(), bucketRoots: config.bucketRoots, outputRoots: config.outputRoots, modelDir: config.modelDir }),
    lock,
    publish,
    async enqueueCallback(payload) {
      await callbacks.add(QUEUE.callback, payload, { ...CALLBACK_JOB_OPTIONS, jobId: bullJobId.callback(payload.jobId) });
    },
    decodeImage: decode,
    kernel,
    linkFor: (jobId) =>
      distributedLinkage({
        parts: config.clusterParts,
        minFaces: config.clusterDistributeAbove,
        run: createPartRunner(jobId, { parts, queue: partQueue, log }),
      }),
    log,
    ...(discoverOrExtend ? { discoverOrExtend } : {}),
    ...(metrics ? { metrics } : {}),
  };

  const patience = { patienceMs: config.infraPatienceMs, log };
  const worker = new Worker<ClusterPayload>(
    QUEUE.cluster,
    (job) => withInfraPatience(job, () => processCluster(job.data, deps), patience),
    workerOptions(config, connection, config.clusterConcurrency),
  );
  // Also reached for a cluster job BullMQ fails without running it (stalled more than allowed).
  worker.on('failed', (job, err) => {
    log.error({ jobId: job?.data.jobId, err: err.message }, 'cluster job failed');
    if (!job || !failedForGood(job)) return;
    // A parent failed because a batch failed ("child <key> failed"): the embed worker that failed the batch records
    // the batch's own reason (the reconciler does if it cannot); this one would only hide it.
    if (/^child \S+ failed$/.test(err.message)) return;
    const reason = failureReason('cluster', err, MAX_STALLED_COUNT);
    writePatiently(() => jobs.fail(job.data.jobId, reason), { ...patience, what: 'marking the job failed', jobId: job.data.jobId });
  });
  worker.on('stalled', (bullJobId) => log.warn({ bullJobId }, 'stalled cluster job recovered'));
  worker.on('error', (err) => log.error({ err }, 'worker error'));

  // Parts of other jobs' linkage (or this process's own): CPU-bound, one at a time beside the cluster jobs.
  const partWorker = new Worker<ClusterPartPayload>(
    QUEUE.clusterPart,
    (job) => processClusterPart(job.data, { parts, log }),
    workerOptions(config, connection, 1),
  );
  partWorker.on('failed', (job, err) => log.error({ jobId: job?.data.jobId, part: job?.data.part, err: err.message }, 'cluster-part job failed'));
  partWorker.on('error', (err) => log.error({ err }, 'worker error'));

  const callbackLog = log.child({ stage: 'callback' });
  const callbackWorker = new Worker<CallbackPayload>(
    QUEUE.callback,
    (job) =>
      processCallback(job.data, {
        secret: config.callbackSecret,
        log: callbackLog.child({ jobId: job.data.jobId }),
        deliver: { policy: { allowHosts: config.callbackAllowHosts } },
      }),
    // Deliveries wait on other hosts, not on this CPU: several may be in flight.
    workerOptions(config, connection, 4),
  );
  callbackWorker.on('failed', (job, err) => {
    metrics?.callbacks.inc({ result: job && !failedForGood(job) ? 'retrying' : 'failed' });
    callbackLog.warn({ jobId: job?.data.jobId, attempt: job?.attemptsMade, err: err.message }, 'callback delivery failed');
  });
  callbackWorker.on('completed', () => metrics?.callbacks.inc({ result: 'delivered' }));
  callbackWorker.on('error', (err) => callbackLog.error({ err }, 'worker error'));
  if (!config.callbackSecret) log.info('CALLBACK_SECRET is not set: callbacks are sent unsigned');
  const onPass = metrics
    ? (done: PassResult) => {
        metrics.reconcilerActions.inc({ action: 'redrive' }, done.redriven.length);
        metrics.reconcilerActions.inc({ action: 'fail' }, done.failed.length);
        metrics.reconcilerActions.inc({ action: 'callback' }, done.callbacks.length);
      }
    : undefined;
  const reconciler = config.reconcileIntervalMs > 0 ? startJobReconciler(config, jobs, producer, log, deps.enqueueCallback, onPass) : null;
  log.info({ concurrency: config.clusterConcurrency }, 'cluster worker ready');
  return {
    async close() {
      await reconciler?.stop();
      await Promise.all([
        closeWorker(worker, config.shutdownTimeoutMs),
        closeWorker(partWorker, config.shutdownTimeoutMs),
        closeWorker(callbackWorker, config.shutdownTimeoutMs),
      ]);
      await callbacks.close().catch(() => undefined);
      await partQueue.close().catch(() => undefined);
      await kernel.close();
      await deps.identities.settled();
      await lockDb.end().catch(() => undefined);
      await Promise.all([
        connection.quit().catch(() => connection.disconnect()),
        producer.quit().catch(() => producer.disconnect()),
      ]);
    },
  };
}

/** The reconciler of this process, with its own queue handles on the fail-fast producer connection. */
function startJobReconciler(
  config: Config,
  jobs: JobsRepository,
  connection: Redis,
  log: Logger,
  enqueueCallback: ReconcilerDeps['enqueueCallback'],
  onPass: ReconcilerDeps['onPass'],
): { stop(): Promise<void> } {
  const queues = {
    scan: createQueue(QUEUE.scan, connection, config.queuePrefix),
    embed: createQueue(QUEUE.embed, connection, config.queuePrefix),
    cluster: createQueue(QUEUE.cluster, connection, config.queuePrefix),
  };
  for (const q of Object.values(queues)) q.on('error', (err) => log.debug({ err: err.message }, 'reconciler queue error'));
  const reconciler = startReconciler(
    {
      jobs, queues: queues as unknown as ReconcilerDeps['queues'], log, idleMs: config.reconcileAfterMs,
      ...(enqueueCallback ? { enqueueCallback } : {}), ...(onPass ? { onPass } : {}),
    },
    config.reconcileIntervalMs,
  );
  log.info({ everyMs: config.reconcileIntervalMs, idleMs: config.reconcileAfterMs }, 'reconciler started');
  return {
    async stop() {
      await reconciler.stop();
      await Promise.all(Object.values(queues).map((q) => q.close().catch(() => undefined)));
    },
  };
}
