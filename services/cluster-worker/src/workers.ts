// Wiring of the cluster-worker process: the BullMQ worker of the cluster queue around its processor.
import { Worker } from 'bullmq';
import type { Config } from '@facesets/shared/config';
import { JobsRepository } from '@facesets/shared/db/jobs.repository';
import type { Db } from '@facesets/shared/db/pool';
import { ReportsRepository } from '@facesets/shared/db/reports.repository';
import { closeWorker, isFinalFailure, workerOptions } from '@facesets/shared/jobs/bull';
import type { Logger } from '@facesets/shared/logger';
import { QUEUE, workerConnection, type ClusterPayload } from '@facesets/shared/queues';
import { processCluster } from './cluster.processor';
import { runDiscovery as defaultRunDiscovery, type RunDiscovery } from './discovery.stage';

export interface ClusterWorkerDeps {
  config: Config;
  db: Db;
  log: Logger;
  /** Replaces the discovery stage (tests). */
  runDiscovery?: RunDiscovery;
}

export interface RunningWorkers {
  close(): Promise<void>;
}

export function startClusterWorker({ config, db, log, runDiscovery }: ClusterWorkerDeps): RunningWorkers {
  const jobs = new JobsRepository(db);
  const reports = new ReportsRepository(db);
  const connection = workerConnection(config.redisUrl);
  const worker = new Worker<ClusterPayload>(
    QUEUE.cluster,
    async (job) => {
      try {
        return await processCluster(job.data, {
          config,
          db,
          jobs,
          reports,
          log,
          runDiscovery: runDiscovery ?? defaultRunDiscovery,
        });
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
  log.info({ concurrency: config.clusterConcurrency }, 'cluster worker ready');
  return {
    async close() {
      await closeWorker(worker, config.shutdownTimeoutMs);
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
