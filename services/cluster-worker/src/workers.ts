// Wiring of the cluster-worker process: the cluster and callback BullMQ workers around their processors, and the
// per-process resources of the cluster steps (GEMM kernel, advisory lock, manifest publisher, callback producer).
import { availableParallelism } from 'node:os';
import { Queue, Worker } from 'bullmq';
import type { Config } from '@facesets/shared/config';
import { createOrtDotKernel } from '@facesets/shared/clustering/ort-dot-kernel';
import { FacesRepository } from '@facesets/shared/db/faces.repository';
import { JobsRepository } from '@facesets/shared/db/jobs.repository';
import { createPgAdvisoryLock } from '@facesets/shared/db/locks.repository';
import type { Db } from '@facesets/shared/db/pool';
import { ReportsRepository } from '@facesets/shared/db/reports.repository';
import { SourcesRepository } from '@facesets/shared/db/sources.repository';
import { createRedisManifestPublisher, manifestChannel } from '@facesets/shared/events/manifest-events';
import { IdentityService } from '@facesets/shared/identities/identity-service';
import { decodeImage } from '@facesets/shared/image/decode';
import { modelPackId } from '@facesets/shared/models/model-pack';
import { closeWorker, isFinalFailure, workerOptions } from '@facesets/shared/jobs/bull';
import type { Logger } from '@facesets/shared/logger';
import {
  CALLBACK_JOB_OPTIONS,
  QUEUE,
  bullJobId,
  producerConnection,
  workerConnection,
  type CallbackPayload,
  type ClusterPayload,
} from '@facesets/shared/queues';
import { processCallback } from './callback.processor';
import { processCluster, type ClusterDeps } from './cluster.processor';

export interface ClusterWorkerDeps {
  config: Config;
  db: Db;
  log: Logger;
  /** Replaces the discover/extend steps (tests of the stage seam). */
  discoverOrExtend?: ClusterDeps['discoverOrExtend'];
}

export interface RunningWorkers {
  close(): Promise<void>;
}

export function startClusterWorker({ config, db, log, discoverOrExtend }: ClusterWorkerDeps): RunningWorkers {
  const jobs = new JobsRepository(db);
  const reports = new ReportsRepository(db);
  const faces = new FacesRepository(db);
  const sources = new SourcesRepository(db);
  const connection = workerConnection(config.redisUrl);
  // Publishing and queueing callbacks fail fast: a Redis hiccup must not hold a finished job up (both are best effort).
  const producer = producerConnection(config.redisUrl);
  producer.on('error', (err) => log.debug({ err: err.message }, 'redis producer connection error'));
  const callbacks = new Queue<CallbackPayload>(QUEUE.callback, { connection: producer, prefix: config.queuePrefix });
  callbacks.on('error', (err) => log.debug({ err: err.message }, 'callback queue error'));
  // One GEMM session per process, shared by every job this worker runs; closed on shutdown.
  const kernel = createOrtDotKernel({ threads: Math.min(4, availableParallelism()) });
  const lock = createPgAdvisoryLock(db);
  const publish = createRedisManifestPublisher(producer, manifestChannel(config.queuePrefix));
  const decode = (path: string) => decodeImage(path, { maxPixels: config.maxImagePixels });
  const deps: ClusterDeps = {
    jobs,
    reports,
    faces,
    imports: { folderPaths: (jobId) => sources.folderPaths(jobId), captureTimesOf: (shas, pack) => faces.captureTimesOf(shas, pack) },
    identities: new IdentityService({ db, lock, decodeImage: decode, publish, log, modelPack: modelPackId() }),
    lock,
    publish,
    async enqueueCallback(payload) {
      await callbacks.add(QUEUE.callback, payload, { ...CALLBACK_JOB_OPTIONS, jobId: bullJobId.callback(payload.jobId) });
    },
    decodeImage: decode,
    kernel,
    log,
    ...(discoverOrExtend ? { discoverOrExtend } : {}),
  };

  const worker = new Worker<ClusterPayload>(
    QUEUE.cluster,
    async (job) => {
      try {
        return await processCluster(job.data, deps);
      } catch (err) {
        if (isFinalFailure(job, err)) {
          const reason = err instanceof Error ? err.message : String(err);
          await jobs.fail(job.data.jobId, `cluster failed: ${reason}`).catch(() => undefined);
        }
        throw err;
      }
    },
    workerOptions(config, connection, config.clusterConcurrency),
  );
  worker.on('failed', (job, err) => log.error({ jobId: job?.data.jobId, err: err.message }, 'cluster job failed'));
  worker.on('stalled', (bullJobId) => log.warn({ bullJobId }, 'stalled cluster job recovered'));
  worker.on('error', (err) => log.error({ err }, 'worker error'));

  const callbackLog = log.child({ stage: 'callback' });
  const callbackWorker = new Worker<CallbackPayload>(
    QUEUE.callback,
    (job) => processCallback(job.data, { secret: config.callbackSecret, log: callbackLog.child({ jobId: job.data.jobId }) }),
    // Deliveries wait on other hosts, not on this CPU: several may be in flight.
    workerOptions(config, connection, 4),
  );
  callbackWorker.on('failed', (job, err) =>
    callbackLog.warn({ jobId: job?.data.jobId, attempt: job?.attemptsMade, err: err.message }, 'callback delivery failed'),
  );
  callbackWorker.on('error', (err) => callbackLog.error({ err }, 'worker error'));
  if (!config.callbackSecret) log.info('CALLBACK_SECRET is not set: callbacks are sent unsigned');
  log.info({ concurrency: config.clusterConcurrency }, 'cluster worker ready');
  return {
    async close() {
      await Promise.all([closeWorker(worker, config.shutdownTimeoutMs), closeWorker(callbackWorker, config.shutdownTimeoutMs)]);
      await callbacks.close().catch(() => undefined);
      await kernel.close();
      await Promise.all([
        connection.quit().catch(() => connection.disconnect()),
        producer.quit().catch(() => producer.disconnect()),
      ]);
    },
  };
}
