// Cluster stage: runs after every embed batch of a job; finalises scan jobs, hands discover/extend to discovery.
import type { Config } from '@facesets/shared/config';
import type { JobRecord, JobsRepository } from '@facesets/shared/db/jobs.repository';
import type { Db } from '@facesets/shared/db/pool';
import type { ReportsRepository } from '@facesets/shared/db/reports.repository';
import { buildJobReport, buildScanReport, scanSummary } from '@facesets/shared/jobs/scan-report';
import { isTerminal } from '@facesets/shared/jobs/state';
import type { Logger } from '@facesets/shared/logger';
import type { ClusterPayload } from '@facesets/shared/queues';
import type { RunDiscovery } from './discovery.stage';

export interface ClusterDeps {
  config: Config;
  db: Db;
  jobs: JobsRepository;
  reports: ReportsRepository;
  log: Logger;
  runDiscovery: RunDiscovery;
}

export type ClusterOutcome = { status: 'completed' } | { status: 'skipped'; reason: string };

export async function processCluster(payload: ClusterPayload, deps: ClusterDeps): Promise<ClusterOutcome> {
  const { jobId } = payload;
  const log = deps.log.child({ jobId, stage: 'cluster' });
  const before = await deps.jobs.get(jobId);
  if (!before) return { status: 'skipped', reason: 'job does not exist' };
  if (isTerminal(before.state)) return { status: 'skipped', reason: `job is ${before.state}` };
  if (!(await deps.jobs.transition(jobId, 'clustering', { phase: 'finalising scan' }))) {
    return { status: 'skipped', reason: 'job left the pipeline meanwhile' };
  }
  const job = (await deps.jobs.get(jobId)) as JobRecord;
  const facts = await deps.reports.scanFacts(jobId, job.modelPack ?? '');
  const scan = buildScanReport(job, facts);
  if (job.mode === 'scan') {
    const report = buildJobReport(job, scan);
    if (!(await deps.jobs.complete(jobId, scanSummary(scan), report))) {
      return { status: 'skipped', reason: 'job was cancelled before it completed' };
    }
    log.info({ faces: scan.faces.total, sources: scan.files.cached + scan.files.embedded }, 'scan job completed');
    return { status: 'completed' };
  }
  // The scan part is visible in GET /jobs/:id/report while discovery runs.
  await deps.jobs.setReport(jobId, buildJobReport(job, scan));
  const result = await deps.runDiscovery(job, {
    config: deps.config,
    db: deps.db,
    jobs: deps.jobs,
    log,
    scan,
    enterExporting: () => deps.jobs.transition(jobId, 'exporting', { phase: 'exporting' }),
    isCancelled: async () => (await deps.jobs.getState(jobId)) === 'cancelled',
  });
  // Discovery's own report is the one written as _reports/<jobId>.md: store the same, so both agree.
  let report = result.report;
  if (!report) {
    const finished = (await deps.jobs.get(jobId)) as JobRecord;
    report = buildJobReport(finished, scan);
    if (result.coverage) report.coverage = result.coverage;
    if (result.discovery) report.discovery = result.discovery;
  }
  if (!(await deps.jobs.complete(jobId, { ...scanSummary(scan), ...result.summary }, report))) {
    return { status: 'skipped', reason: 'job was cancelled before it completed' };
  }
  log.info({ mode: job.mode, ...result.summary }, 'job completed');
  // After completion and never failing it: the job is done whether or not its notification can be queued.
  await result.afterComplete?.().catch((err: unknown) => log.warn({ err }, 'post-completion step failed'));
  return { status: 'completed' };
}
