// Wiring of the embed-worker process: BullMQ workers for the scan and embed queues around their processors.
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Config } from '@facesets/shared/config';
import { FacesRepository } from '@facesets/shared/db/faces.repository';
import { JobsRepository } from '@facesets/shared/db/jobs.repository';
import type { Db } from '@facesets/shared/db/pool';
import { SourcesRepository } from '@facesets/shared/db/sources.repository';
import { remeasureBlur } from '@facesets/shared/engine/remeasure';
import { closeWorker, isFinalFailure, workerOptions } from '@facesets/shared/jobs/bull';
import type { Logger } from '@facesets/shared/logger';
import {
  QUEUE,
  createFlowProducer,
  workerConnection,
  type EmbedPayload,
  type ScanPayload,
} from '@facesets/shared/queues';
import { processEmbed, type Engine } from './embed.processor';
import { processScan } from './scan.processor';

export interface EmbedWorkerDeps {
  config: Config;
  db: Db;
  engine: Engine;
  log: Logger;
}

export interface RunningWorkers {
  /** Stops taking work, finishes or releases the current jobs, closes connections. */
  close(): Promise<void>;
}

export function startEmbedWorkers({ config, db, engine, log }: EmbedWorkerDeps): RunningWorkers {
  const jobs = new JobsRepository(db);
  const sources = new SourcesRepository(db);
  const faces = new FacesRepository(db);
  const scanConnection = workerConnection(config.redisUrl);
  const embedConnection = workerConnection(config.redisUrl);
  const flowConnection = workerConnection(config.redisUrl);
  const flow = createFlowProducer(flowConnection, config.queuePrefix);
  // An 'error' event nobody listens to is thrown as an uncaught exception: log it; the scan's retry handles it.
  flow.on('error', (err) => log.error({ err }, 'flow producer error'));
  let stopping = false;

  /** Marks the public job failed once BullMQ gives up on one of its stages. */
  const failOnFinal = async (job: Job, stage: string, jobId: string, err: unknown): Promise<void> => {
    if (!isFinalFailure(job, err) || err instanceof DelayedError) return;
    const reason = err instanceof Error ? err.message : String(err);
    await jobs.fail(jobId, `${stage} failed: ${reason}`).catch((e) => log.error({ err: e, jobId }, 'cannot mark job failed'));
  };

  const scanWorker = new Worker<ScanPayload>(
    QUEUE.scan,
    async (job) => {
      try {
        return await processScan(job.data, {
          jobs,
          sources,
          flow,
          modelPack: engine.modelPackId,
          batchSize: config.embedBatchSize,
          log,
        });
      } catch (err) {
        await failOnFinal(job, 'scan', job.data.jobId, err);
        throw err;
      }
    },
    workerOptions(config, scanConnection, config.scanConcurrency),
  );

  const embedWorker = new Worker<EmbedPayload>(
    QUEUE.embed,
    async (job, token) => {
      try {
        const outcome = await processEmbed(job.data, {
          jobs,
          sources,
          faces,
          engine,
          remeasureBlur: (path, boxes) => remeasureBlur(path, boxes, { maxPixels: config.maxImagePixels }),
          log,
          stopping: () => stopping,
        });
        if (outcome.stopped === 'shutdown' && token) {
          // Hand the rest of the batch back without spending an attempt; files done so far are not redone.
          await job.moveToDelayed(Date.now(), token);
          throw new DelayedError();
        }
        return outcome;
      } catch (err) {
        await failOnFinal(job, `embed batch ${job.data.batch}`, job.data.jobId, err);
        throw err;
      }
    },
    workerOptions(config, embedConnection, config.embedConcurrency),
  );

  for (const [name, worker] of [
    ['scan', scanWorker],
    ['embed', embedWorker],
  ] as const) {
    worker.on('failed', (job, err) =>
      log.error({ queue: name, jobId: job?.data.jobId, bullJobId: job?.id, err: err.message }, 'queue job failed'),
    );
    worker.on('stalled', (bullJobId) => log.warn({ queue: name, bullJobId }, 'stalled job recovered'));
    worker.on('error', (err) => log.error({ queue: name, err }, 'worker error'));
  }
  log.info(
    { scanConcurrency: config.scanConcurrency, embedConcurrency: config.embedConcurrency, modelPack: engine.modelPackId },
    'embed worker ready',
  );

  return {
    async close() {
      stopping = true;
      await Promise.all([
        closeWorker(scanWorker, config.shutdownTimeoutMs),
        closeWorker(embedWorker, config.shutdownTimeoutMs),
      ]);
      await flow.close();
      await Promise.all([scanConnection, embedConnection, flowConnection].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
