// Discovery stage of the cluster worker: coverage, clustering, export, manifest and report for discover/extend jobs.
import { UnrecoverableError } from 'bullmq';
import type { Config } from '@facesets/shared/config';
import type { JobRecord, JobsRepository } from '@facesets/shared/db/jobs.repository';
import type { Db } from '@facesets/shared/db/pool';
import type { DotKernel } from '@facesets/shared/discovery/threshold-graph';
import { decodeImage } from '@facesets/shared/image/decode';
import { buildJobReport } from '@facesets/shared/jobs/scan-report';
import type { Logger } from '@facesets/shared/logger';
import type { CallbackPayload } from '@facesets/shared/queues';
import type { CoverageReport, DiscoveryReport, JobReport, ScanReport } from '@facesets/shared/report/types';
import type { ManifestEvent } from './discovery/events';
import type { OutputRootLock } from './discovery/lock';
import { runDiscovery as runDiscoveryCore } from './discovery/run-discovery';
import { createDiscoveryStore } from './discovery/store';

export interface DiscoveryDeps {
  config: Config;
  db: Db;
  jobs: JobsRepository;
  /** Carries jobId and stage in every line. */
  log: Logger;
  /** The scan part of the report, already computed for this job (and stored, so GET …/report shows it). */
  scan: ScanReport;
  /** Moves the job to `exporting` before anything is written to the output root; false if it was cancelled. */
  enterExporting(): Promise<boolean>;
  /** True once the job was cancelled: stop before the next write. */
  isCancelled(): Promise<boolean>;
}

/** What discovery adds to the job: its report sections and the summary GET /jobs/:id shows. */
export interface DiscoveryResult {
  coverage?: CoverageReport;
  discovery?: DiscoveryReport;
  /** The whole report (scan part included) as written to `_reports/<jobId>.md`; stored as the job's report. */
  report?: JobReport;
  summary?: Record<string, unknown>;
  /** Runs once the job is completed (never before, never blocking it): e.g. queue the callback. */
  afterComplete?: () => Promise<void>;
}

export type RunDiscovery = (job: JobRecord, deps: DiscoveryDeps) => Promise<DiscoveryResult>;

/** Per-process resources of the stage, opened once by the worker wiring. */
export interface DiscoveryResources {
  lock: OutputRootLock;
  /** Redis pub/sub of manifest updates. */
  publish(event: ManifestEvent): Promise<void>;
  /** Queues the (retried, signed) HTTP notification of a job's callbackUrl. */
  enqueueCallback(payload: CallbackPayload): Promise<void>;
  kernel?: DotKernel;
}

/** Thrown from the stage's hooks when the job was cancelled: nothing more is written, the job stays cancelled. */
export class JobCancelledError extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} was cancelled`);
    this.name = 'JobCancelledError';
  }
}

/** The summary GET /jobs/:id shows for a finished discover/extend job. */
export function discoverySummary(out: { added: string[]; extended: string[]; coverage: CoverageReport; discovery: DiscoveryReport | null }) {
  return {
    added: out.added,
    extended: out.extended,
    facesCovered: out.coverage.covered,
    ...(out.discovery ? { clustersKept: out.discovery.clustersKept } : {}),
  };
}

export function createDiscoveryStage(res: DiscoveryResources): RunDiscovery {
  return async (job, deps) => {
    if (job.mode !== 'discover' && job.mode !== 'extend') throw new UnrecoverableError(`discovery cannot run a ${job.mode} job`);
    if (!job.outputRoot) throw new UnrecoverableError(`job ${job.id} has no outputRoot`);
    const store = createDiscoveryStore(deps.db, { id: job.id, modelPack: job.modelPack ?? '' });
    const { config, log } = deps;
    try {
      const out = await runDiscoveryCore(
        {
          jobId: job.id,
          mode: job.mode,
          bucket: job.bucket,
          outputRoot: job.outputRoot,
          params: job.params,
          createdAt: job.createdAt.toISOString(),
          report: buildJobReport(job, deps.scan),
        },
        {
          loadJobFaces: store.loadJobFaces,
          findFaces: store.findFaces,
          lock: res.lock,
          publish: res.publish,
          logger: log,
          decodeImage: (path) => decodeImage(path, { maxPixels: config.maxImagePixels }),
          ...(res.kernel ? { kernel: res.kernel } : {}),
          beforeWrites: async () => {
            if (!(await deps.enterExporting())) throw new JobCancelledError(job.id);
          },
          // The last moment to back out: crops sit in temp folders, no set has been moved into place yet.
          afterCrops: async () => {
            if (await deps.isCancelled()) throw new JobCancelledError(job.id);
          },
        },
      );
      const changed = out.added.length > 0 || out.extended.length > 0;
      const callbackUrl = job.callbackUrl;
      return {
        coverage: out.coverage,
        ...(out.discovery ? { discovery: out.discovery } : {}),
        ...(out.report ? { report: out.report } : {}),
        summary: discoverySummary(out),
        ...(changed && callbackUrl
          ? {
              afterComplete: () => {
                // job.outputRoot is already the real path (the API resolves it), as in the Redis event.
                const event: ManifestEvent = { outputRoot: job.outputRoot!, jobId: job.id, added: out.added, extended: out.extended };
                return res.enqueueCallback({ jobId: job.id, url: callbackUrl, body: JSON.stringify({ event: 'manifest.updated', ...event }) });
              },
            }
          : {}),
      };
    } catch (err) {
      if (err instanceof JobCancelledError) {
        log.info('job cancelled during discovery; nothing was moved into the output root');
        return {};
      }
      throw err;
    }
  };
}
