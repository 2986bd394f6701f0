// Seam for the discovery issue: coverage, clustering, export and manifest for `discover` and `extend` jobs.
import { UnrecoverableError } from 'bullmq';
import type { Config } from '@facesets/shared/config';
import type { JobRecord, JobsRepository } from '@facesets/shared/db/jobs.repository';
import type { Db } from '@facesets/shared/db/pool';
import type { Logger } from '@facesets/shared/logger';
import type { CoverageReport, DiscoveryReport, ScanReport } from '@facesets/shared/report/types';

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
  summary?: Record<string, unknown>;
}

export type RunDiscovery = (job: JobRecord, deps: DiscoveryDeps) => Promise<DiscoveryResult>;

/**
 * Coverage (and discovery for `discover`) for a job whose embeddings are all recorded; the cluster stage
 * completes the job with what it returns. Placeholder until the discovery issue lands: it fails the job clearly.
 */
export const runDiscovery: RunDiscovery = async (job) => {
  throw new UnrecoverableError(`discovery not implemented (mode ${job.mode})`);
};
