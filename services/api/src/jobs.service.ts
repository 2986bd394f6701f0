// What the /jobs routes do: validate and create a job and queue its scan, present it, cancel it.
import { createHash } from 'node:crypto';
import type { Queues } from './plugins/resources';
import type { Config } from '@facesets/shared/config';
import { jobCounters, type JobRecord, type JobsRepository } from '@facesets/shared/db/jobs.repository';
import { CallbackUrlError, checkCallbackUrl } from '@facesets/shared/events/callback-url';
import { PathValidationError, resolveAllowedDir } from '@facesets/shared/jobs/paths';
import { jobProgress } from '@facesets/shared/jobs/state';
import { withDefaults } from '@facesets/shared/params';
import { bullJobId } from '@facesets/shared/queues';
import type { Logger } from '@facesets/shared/logger';
import { badRequest, conflict, notFound, unavailable } from './http-errors';
import type { CreateJobBody, JobView } from './schemas/job.schemas';

export interface JobsServiceDeps {
  config: Config;
  /** Why an output root cannot be used beside the known ones (IdentityService.rootConflict), or null. */
  rootConflict(root: string, bucket?: string): Promise<string | null>;
  jobs: JobsRepository;
  queues: Queues;
  log: Logger;
}

export function jobLinks(id: string) {
  return { self: `/jobs/${id}`, report: `/jobs/${id}/report` };
}

export function toJobView(j: JobRecord): JobView {
  return {
    id: j.id,
    mode: j.mode,
    state: j.state,
    phase: j.phase,
    bucket: j.bucket,
    outputRoot: j.outputRoot,
    params: j.params,
    force: j.force,
    modelPack: j.modelPack,
    counters: jobCounters(j),
    progress: jobProgress(j.state, j.scannedAt !== null, { found: j.found, toEmbed: j.toEmbed, embedded: j.embedded }),
    error: j.error,
    summary: j.summary,
    createdAt: j.createdAt.toISOString(),
    startedAt: j.startedAt?.toISOString() ?? null,
    finishedAt: j.finishedAt?.toISOString() ?? null,
    updatedAt: j.updatedAt.toISOString(),
    links: jobLinks(j.id),
  };
}

async function validPath(field: string, value: string, roots: string[], variable: string): Promise<string> {
  try {
    return await resolveAllowedDir(field, value, roots, variable);
  } catch (err) {
    if (err instanceof PathValidationError) throw badRequest(err.message);
    throw err;
  }
}

/** The URL as it will be called; refused when it is internal (after DNS) or carries credentials. */
async function validCallback(url: string, config: Config): Promise<string> {
  try {
    return await checkCallbackUrl(url, { allowHosts: config.callbackAllowHosts }, { field: 'body/callbackUrl', unresolved: 'accept' });
  } catch (err) {
    if (err instanceof CallbackUrlError) throw badRequest(err.message);
    throw err;
  }
}

export class JobsService {
  constructor(private readonly deps: JobsServiceDeps) {}

  /** Creates the job (or returns the one an Idempotency-Key already made) and queues its scan. */
  async create(body: CreateJobBody, idempotencyKey: string | undefined): Promise<{ job: JobRecord; created: boolean }> {
    const { config, jobs } = this.deps;
    const mode = body.mode ?? 'discover';
    const requestHash = createHash('sha256')
      .update(JSON.stringify([body.bucket, body.outputRoot ?? null, mode, withDefaults(body.params), body.force ?? false, body.callbackUrl ?? null]))
      .digest('hex');
    const bucket = await validPath('body/bucket', body.bucket, config.bucketRoots, 'BUCKET_ROOTS');
    let outputRoot: string | null = null;
    if (body.outputRoot !== undefined) {
      outputRoot = await validPath('body/outputRoot', body.outputRoot, config.outputRoots, 'OUTPUT_ROOTS');
      const why = await this.deps.rootConflict(outputRoot, bucket);
      if (why) throw badRequest(`body/outputRoot ${why}: ${body.outputRoot}`);
    } else if (mode !== 'scan') {
      throw badRequest(`body/outputRoot is required for mode ${mode}`);
    }
    const callbackUrl = body.callbackUrl === undefined ? null : await validCallback(body.callbackUrl, config);
    const { job, created } = await jobs.create({
      mode,
      bucket,
      outputRoot,
      params: withDefaults(body.params),
      force: body.force ?? false,
      callbackUrl,
      idempotencyKey: idempotencyKey ?? null,
      requestHash,
    });
    if (!created && job.requestHash !== requestHash) {
      throw conflict('Idempotency-Key was already used for a different request');
    }
    // Also on a replay: if the first request died between INSERT and enqueue, this repairs it (same BullMQ id).
    if (job.state === 'queued') await this.enqueueScan(job);
    return { job, created };
  }

  private async enqueueScan(job: JobRecord): Promise<void> {
    try {
      await this.deps.queues.scan.add('scan', { jobId: job.id }, { jobId: bullJobId.scan(job.id) });
    } catch (err) {
      this.deps.log.error({ err, jobId: job.id }, 'cannot queue the scan');
      await this.deps.jobs.fail(job.id, 'could not be queued: the queue (Redis) is unavailable');
      throw unavailable('the job queue is unavailable; the job was not started');
    }
  }

  async get(id: string): Promise<JobRecord> {
    const job = await this.deps.jobs.get(id);
    if (!job) throw notFound(`job ${id} does not exist`);
    return job;
  }

  /** Marks the job cancelled, then drops its queued work; running work stops at its next file. */
  async cancel(id: string): Promise<JobRecord> {
    const result = await this.deps.jobs.cancel(id);
    if (!result) throw notFound(`job ${id} does not exist`);
    if (!result.cancelled) throw conflict(`job ${id} is already ${result.job.state}`);
    await this.dropQueuedWork(result.job).catch((err) =>
      this.deps.log.warn({ err, jobId: id }, 'could not drop queued work; workers will skip it'),
    );
    return result.job;
  }

  private async dropQueuedWork(job: JobRecord): Promise<void> {
    const { scan, embed, cluster } = this.deps.queues;
    await removeQuietly(() => scan.remove(bullJobId.scan(job.id)));
    // The parent goes with its waiting children; if one child is running (locked) that fails, so the
    // waiting children are removed one by one and the parent, when it runs, finds the job cancelled.
    const removed = await removeQuietly(() => cluster.remove(bullJobId.cluster(job.id), { removeChildren: true }));
    if (!removed) {
      // The fan-out's delayed barrier too (a cancel during the fan-out): else the parent waits on it for a week.
      await removeQuietly(() => embed.remove(bullJobId.embed(job.id, 'barrier')));
      for (let batch = 0; batch < job.batches; batch++) {
        await removeQuietly(() => embed.remove(bullJobId.embed(job.id, batch)));
      }
    }
  }
}

async function removeQuietly(remove: () => Promise<number>): Promise<boolean> {
  try {
    return (await remove()) === 1;
  } catch {
    return false;
  }
}
