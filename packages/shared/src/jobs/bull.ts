// Helpers every BullMQ worker wiring shares: final-failure detection, worker options, patience with outages.
import { UnrecoverableError, type Job, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { infraBackoffMs, isInfrastructureError } from '../infra-errors';
import type { Logger } from '../logger';
import { bullTelemetry } from '../telemetry/bullmq-telemetry';

export function workerOptions(config: Config, connection: Redis, concurrency: number): WorkerOptions {
  return {
    connection,
    prefix: config.queuePrefix,
    concurrency,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
    // A batch may be orphaned by a crash more than once (e.g. repeated OOM) before it counts as failed.
    maxStalledCount: MAX_STALLED_COUNT,
    ...bullTelemetry(),
  };
}

/** Closes a worker, letting its active jobs finish for up to `timeoutMs`, then abandoning them to stall recovery. */
export async function closeWorker(
  worker: { close(force?: boolean): Promise<void>; waitUntilReady?(): Promise<unknown> },
  timeoutMs: number,
): Promise<void> {
  // Closed while its Redis handshake is still running, BullMQ rejects with "Connection is closed" where nobody
  // listens (a SIGTERM right after start): let the handshake settle first, bounded.
  await untilReady(worker);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([worker.close().then(() => 'closed' as const), timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') await worker.close(true);
}

/** True in a worker's 'failed' event when BullMQ will not try the job again (it was moved to the failed set). */
export function failedForGood(job: Job): boolean {
  return typeof job.finishedOn === 'number' && job.finishedOn > 0;
}

/** The reason a person reads on the job, from the error BullMQ failed a queue job with. */
export function failureReason(stage: string, err: Error, maxStalledCount: number): string {
  if (/stalled more than allowable limit/.test(err.message)) {
    return `${stage} failed: the worker running it died ${maxStalledCount + 1} times (killed or crashed) before it could finish`;
  }
  return `${stage} failed: ${err.message}`;
}

/** Stall limit of every worker (see workerOptions). */
export const MAX_STALLED_COUNT = 2;

export interface InfraPatience {
  /** How long to keep putting a job back while Postgres or Redis is unreachable. */
  patienceMs: number;
  log: Logger;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `process` (which must be safe to run again from the start, as every stage is); while it throws an
 * infrastructure error (Postgres/Redis unreachable, timeouts) it is run again in place after a growing pause
 * (1 s, 2 s, 4 s … 30 s) without spending a queue attempt, until `patienceMs` has passed since the first such
 * failure: then the queue job fails for good with a reason naming the outage. Other errors pass through at once, so
 * a bad file or a bug keeps the normal attempts. Waiting in place needs no Redis (the outage may be Redis').
 */
export async function withInfraPatience<T>(
  job: Job,
  process: () => Promise<T>,
  opts: InfraPatience & { stopping?: () => boolean },
): Promise<T> {
  let since: number | null = null;
  for (let tries = 1; ; tries++) {
    try {
      return await process();
    } catch (err) {
      if (!isInfrastructureError(err)) throw err;
      const now = Date.now();
      since ??= now;
      const message = err instanceof Error ? err.message : String(err);
      if (now - since >= opts.patienceMs) {
        throw new UnrecoverableError(
          `Postgres or Redis unreachable for ${Math.round((now - since) / 1000)} s (${tries} tries): ${message}`,
        );
      }
      if (opts.stopping?.()) throw err;
      const delayMs = Math.min(infraBackoffMs(tries), Math.max(0, since + opts.patienceMs - now));
      opts.log.warn({ queue: job.queueName, bullJobId: job.id, tries, delayMs, err: message }, 'infrastructure unavailable: retrying in place');
      await sleep(delayMs);
    }
  }
}

/**
 * Runs `write` (e.g. marking a job failed), retrying in the background while Postgres is unreachable, for up to
 * `patienceMs`; the reconciler catches what is still left after that.
 */
export function writePatiently(write: () => Promise<unknown>, opts: InfraPatience & { what: string; jobId: string }): void {
  const started = Date.now();
  const attempt = (tries: number): void => {
    write().catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (!isInfrastructureError(err) || Date.now() - started >= opts.patienceMs) {
        opts.log.error({ jobId: opts.jobId, err: message }, `${opts.what} failed`);
        return;
      }
      setTimeout(() => attempt(tries + 1), infraBackoffMs(tries)).unref();
    });
  };
  attempt(1);
}

/** Waits, at most `ms`, for a BullMQ worker, queue or flow producer to finish connecting; never throws. */
export async function untilReady(client: { waitUntilReady?(): Promise<unknown> }, ms = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    (client.waitUntilReady?.() ?? Promise.resolve()).catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
