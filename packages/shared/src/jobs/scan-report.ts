// Assembles the scan part of a job's report (SPEC.md step 8) and its short summary from counters and facts.
import type { JobRecord } from '../db/jobs.repository';
import { jobCounters } from '../db/jobs.repository';
import type { ScanFacts } from '../db/reports.repository';
import type { JobReport, ScanReport } from '../report/types';
import { emptyScanStats } from './scan-stats';

export function buildScanReport(job: JobRecord, facts: ScanFacts): ScanReport {
  const stats = job.scanStats ?? emptyScanStats();
  const c = jobCounters(job);
  return {
    bucket: job.bucket,
    files: {
      byExtension: stats.byExtension,
      found: c.found,
      skippedByExtension: stats.skippedByExtension,
      ...(stats.skippedExamples ? { skippedExamples: stats.skippedExamples } : {}),
      skipped: c.skipped,
      aliases: c.aliases,
      cached: c.cached,
      embedded: c.embedded,
      noface: c.noface,
      errors: c.errors,
    },
    errorFiles: [...stats.errorFiles, ...facts.errorFiles].sort((a, b) => a.path.localeCompare(b.path)),
    ...(stats.rootFiles?.length ? { rootFiles: [...stats.rootFiles].sort() } : {}),
    faces: {
      total: facts.faces,
      perImageHistogram: facts.perImageHistogram,
      faceShort: facts.faceShort,
      detScore: facts.detScore,
      blur: facts.blur,
    },
  };
}

export function buildJobReport(job: JobRecord, scan: ScanReport): JobReport {
  return {
    jobId: job.id,
    mode: job.mode,
    bucket: job.bucket,
    outputRoot: job.outputRoot,
    params: job.params as unknown as Record<string, unknown>,
    modelPack: job.modelPack ?? '',
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? new Date().toISOString(),
    scan,
  };
}

/** The short summary GET /jobs/:id shows once a scan job completes. */
export function scanSummary(scan: ScanReport): Record<string, unknown> {
  const { byExtension: _kept, skippedByExtension: _skipped, skippedExamples: _examples, ...files } = scan.files;
  return { sources: files.cached + files.embedded, ...files, faces: scan.faces.total };
}
