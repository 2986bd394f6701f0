// Wiring of the embed-worker process: BullMQ workers for the scan and embed queues around their processors.
import { DelayedError, Worker } from 'bullmq';
import type { Config } from '@facesets/shared/config';
import { FacesRepository } from '@facesets/shared/db/faces.repository';
import { JobsRepository } from '@facesets/shared/db/jobs.repository';
import type { Db } from '@facesets/shared/db/pool';
import { SourcesRepository } from '@facesets/shared/db/sources.repository';
import {
  MAX_STALLED_COUNT,
  closeWorker,
  failedForGood,
  untilReady,
  failureReason,
  withInfraPatience,
  workerOptions,
  writePatiently,
} from '@facesets/shared/jobs/bull';
import type { Logger } from '@facesets/shared/logger';
import type { EmbedMetrics } from '@facesets/shared/metrics/metrics';
import {
  QUEUE,
  createFlowProducer,
  workerConnection,
  type EmbedPayload,
  type ScanPayload,
} from '@facesets/shared/queues';
import { processEmbed, type Engine } from './embed.processor';
import { FileGate } from './file-gate';
import { processScan } from './scan.processor';

export interface EmbedWorkerDeps {
  config: Config;
  db: Db;
  engine: Engine;
  log: Logger;
  /** Prometheus metrics of this process (main.ts; absent in tests that do not look). */
  metrics?: EmbedMetrics;
}

export interface RunningWorkers {
  /** Stops taking work, finishes or releases the current jobs, closes connections. */
  close(): Promise<void>;
}

export function startEmbedWorkers({ config, db, engine, log, metrics }: EmbedWorkerDeps): RunningWorkers {
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
  const gate = new FileGate();

  const patience = { patienceMs: config.infraPatienceMs, log, stopping: () => stopping };

  const scanWorker = new Worker<ScanPayload>(
    QUEUE.scan,
    (job) =>
      withInfraPatience(
        job,
        () =>
          processScan(job.data, {
            jobs,
            sources,
            flow,
            modelPack: engine.modelPackId,
            batchSize: config.embedBatchSize,
            fanOutChunk: config.scanFanOutChunk,
            log,
            ...(metrics ? { metrics } : {}),
          }),
        patience,
      ),
    workerOptions(config, scanConnection, config.scanConcurrency),
  );

  const embedWorker = new Worker<EmbedPayload>(
    QUEUE.embed,
    async (job, token) => {
      const outcome = await withInfraPatience(
        job,
        () =>
          processEmbed(job.data, {
            jobs,
            sources,
            faces,
            engine,
            log,
            gate,
            stopping: () => stopping,
            ...(metrics ? { metrics } : {}),
          }),
        patience,
      );
      if (outcome.stopped === 'shutdown' && token) {
        // Hand the rest of the batch back without spending an attempt; files done so far are not redone.
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      return outcome;
    },
    workerOptions(config, embedConnection, config.embedConcurrency),
  );

  for (const [name, worker] of [
    ['scan', scanWorker],
    ['embed', embedWorker],
  ] as const) {
    // Also reached for a batch BullMQ fails without running it (stalled more than allowed): the job must fail too.
    worker.on('failed', (job, err) => {
      log.error({ queue: name, jobId: job?.data.jobId, bullJobId: job?.id, err: err.message }, 'queue job failed');
      if (!job || !failedForGood(job)) return;
      const stage = name === 'scan' ? 'scan' : `embed batch ${(job.data as EmbedPayload).batch}`;
      const reason = failureReason(stage, err, MAX_STALLED_COUNT);
      writePatiently(() => jobs.fail(job.data.jobId, reason), { ...patience, what: 'marking the job failed', jobId: job.data.jobId });
    });
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
      await untilReady(flow);
      await flow.close();
      await Promise.all([scanConnection, embedConnection, flowConnection].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
