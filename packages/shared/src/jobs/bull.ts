// Helpers every BullMQ worker wiring shares: final-failure detection and worker options from config.
import { UnrecoverableError, type Job, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config';

/** True when BullMQ will not try this job again after `err`. */
export function isFinalFailure(job: Job, err: unknown): boolean {
  return err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

export function workerOptions(config: Config, connection: Redis, concurrency: number): WorkerOptions {
  return {
    connection,
    prefix: config.queuePrefix,
    concurrency,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
    // A batch may be orphaned by a crash more than once (e.g. repeated OOM) before it counts as failed.
    maxStalledCount: 2,
  };
}

/** Closes a worker, letting its active jobs finish for up to `timeoutMs`, then abandoning them to stall recovery. */
export async function closeWorker(worker: { close(force?: boolean): Promise<void> }, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([worker.close().then(() => 'closed' as const), timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') await worker.close(true);
}
