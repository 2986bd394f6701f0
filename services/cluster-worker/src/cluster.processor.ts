// Cluster stage: runs after every embed batch of a job; finalises scan jobs, and runs discover/extend as named steps:
// identities (adopt, hand edits) → coverage → clustering → export → manifest (under the output-root lock) → report → events;
// import jobs likewise (import-folders.ts).
import { mkdir, realpath } from 'node:fs/promises';
import { UnrecoverableError } from 'bullmq';
import type { LinkageRunner } from '@facesets/shared/clustering/discover-table';
import type { DotKernel } from '@facesets/shared/clustering/threshold-graph';
import { compareFaces, type DiscoveryFace } from '@facesets/shared/clustering/types';
import type { FacesRepository } from '@facesets/shared/db/faces.repository';
import type { IdentityService } from '@facesets/shared/identities/identity-service';
import type { JobRecord, JobsRepository } from '@facesets/shared/db/jobs.repository';
import type { OutputRootLock } from '@facesets/shared/db/locks.repository';
import type { ReportsRepository } from '@facesets/shared/db/reports.repository';
import type { ManifestEvent } from '@facesets/shared/events/manifest-events';
import { manifestNames, readManifest } from '@facesets/shared/export/manifest';
import { rollBackUnfinishedRun } from '@facesets/shared/export/roll-back';
import type { DecodeImage } from '@facesets/shared/export/write-facesets';
import { buildJobReport, buildScanReport, scanSummary } from '@facesets/shared/jobs/scan-report';
import { isTerminal } from '@facesets/shared/jobs/state';
import type { Logger } from '@facesets/shared/logger';
import type { ClusterMetrics, ClusterStage } from '@facesets/shared/metrics/metrics';
import type { JobParams } from '@facesets/shared/params';
import type { CallbackPayload, ClusterPayload } from '@facesets/shared/queues';
import type { CoverageReport, DiscoveryReport, JobReport } from '@facesets/shared/report/types';
import { importFolders, importSummary, type ImportSource } from './import-folders';
import { clusteringStep } from './steps/clustering.step';
import { erasStep } from './steps/eras.step';
import { coverageStep } from './steps/coverage.step';
import { callbackBody, callbackStep, publishStep } from './steps/events.step';
import { exportStep } from './steps/export.step';
import { manifestStep } from './steps/manifest.step';
import { reportStep } from './steps/report.step';

/** Where the face records of a job come from (FacesRepository; tests pass faces computed in memory). */
export type JobFaceSource = Pick<FacesRepository, 'facesOfJobWithPaths' | 'facesOfSources'>;

export interface ClusterDeps {
  jobs: JobsRepository;
  reports: ReportsRepository;
  faces: JobFaceSource;
  /** Identity records of output roots: adoption, decisions honoured, extend and new sets recorded. */
  identities: IdentityService;
  /** Import jobs: each path's top-level folder and the sources' capture times. */
  imports: ImportSource;
  lock: OutputRootLock;
  /** Redis pub/sub of manifest updates. */
  publish(event: ManifestEvent): Promise<void>;
  /** Queues the (retried, signed) HTTP notification of a job's callbackUrl. */
  enqueueCallback(payload: CallbackPayload): Promise<void>;
  /** Decodes a source at full resolution, EXIF-rotated (the frame the boxes and keypoints are in). */
  decodeImage: DecodeImage;
  /** Pair-finding kernel for clustering [pure JS]; the worker passes the onnxruntime GEMM one. */
  kernel?: DotKernel;
  /** Where a job's linkage runs [here]; the worker sends big graphs' parts to every cluster worker. */
  linkFor?: (jobId: string) => LinkageRunner;
  log: Logger;
  /** Replaces the discover/extend steps (tests of the stage seam). */
  discoverOrExtend?: typeof discoverOrExtend;
  /** Step durations and discovery sizes (Prometheus). */
  metrics?: Pick<ClusterMetrics, 'timeStage' | 'discoveryFaces'>;
}

/** Runs a step, timed when the worker has metrics. */
function timed<T>(deps: Pick<ClusterDeps, 'metrics'>, stage: ClusterStage, fn: () => Promise<T>): Promise<T> {
  return deps.metrics ? deps.metrics.timeStage(stage, fn) : fn();
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
  await testHold('clustering');
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
  if (!job.outputRoot) throw new UnrecoverableError(`job ${job.id} has no outputRoot`);
  // The scan part is visible in GET /jobs/:id/report while discovery runs.
  const base = buildJobReport(job, scan);
  await deps.jobs.setReport(jobId, base);
  const input: DiscoverInput = {
    jobId,
    mode: job.mode,
    bucket: job.bucket,
    outputRoot: job.outputRoot,
    modelPack: job.modelPack ?? '',
    params: job.params,
    createdAt: job.createdAt.toISOString(),
    report: base,
  };
  const stepDeps = {
    ...deps,
    log,
    enterExporting: () => deps.jobs.transition(jobId, 'exporting', { phase: 'exporting' }),
    isCancelled: async () => {
      await testHold('exporting');
      return (await deps.jobs.getState(jobId)) === 'cancelled';
    },
    isFinished: async () => isTerminal((await deps.jobs.getState(jobId)) ?? 'cancelled'),
  };
  const out =
    job.mode === 'import'
      ? await timed(deps, 'import', () => importFolders(input, stepDeps)).then((o) => o && { ...o, summary: importSummary(o) })
      : await (deps.discoverOrExtend ?? discoverOrExtend)(input, stepDeps).then((o) => o && { ...o, summary: discoverySummary(o) });
  if (!out) {
    log.info('job cancelled (or finished by another run) during discovery; this run moved nothing into the output root');
    return { status: 'skipped', reason: 'job was cancelled or finished before this run wrote anything' };
  }
  const summary = { ...scanSummary(scan), ...out.summary };
  const body = callbackBody(out.event, job.callbackUrl);
  if (!(await deps.jobs.complete(jobId, summary, out.report, body))) {
    return { status: 'skipped', reason: 'job was cancelled before it completed' };
  }
  log.info({ mode: job.mode, ...out.summary }, 'job completed');
  await testHold('callback');
  // After completion and never failing it: the job is done whether or not its notification can be queued now.
  await callbackStep(jobId, body, job.callbackUrl, { ...deps, log, markQueued: (id) => deps.jobs.markCallbackQueued(id) });
  return { status: 'completed' };
}

export interface DiscoverInput {
  jobId: string;
  mode: JobRecord['mode'];
  bucket: string;
  outputRoot: string;
  modelPack: string;
  params: JobParams;
  /** ISO time stamped on everything this job writes. */
  createdAt: string;
  /** The job's report so far (scan part); completed by the steps and written as _reports/<jobId>.md. */
  report: JobReport;
}

export type DiscoverDeps = Pick<ClusterDeps, 'faces' | 'identities' | 'lock' | 'publish' | 'decodeImage' | 'kernel' | 'linkFor' | 'log' | 'metrics'> & Partial<Pick<ClusterDeps, 'imports'>> & {
  /** Moves the job to `exporting` before anything is written to the output root; false if it was cancelled. */
  enterExporting?(): Promise<boolean>;
  /** True once the job was cancelled: checked after the crops are written, before any set is moved into place. */
  isCancelled?(): Promise<boolean>;
  /** True once the job is completed, failed or cancelled: checked under the output-root lock before anything else. */
  isFinished?(): Promise<boolean>;
};

export interface DiscoverOutcome {
  coverage: CoverageReport;
  /** null for extend jobs (coverage only). */
  discovery: DiscoveryReport | null;
  added: string[];
  extended: string[];
  /** The whole report, as written to _reports/<jobId>.md. */
  report: JobReport;
  /** The manifest-update event (published when added or extended is not empty). */
  event: ManifestEvent;
}

/** Thrown by the hooks when the job was cancelled: nothing more is written, the job stays cancelled. */
class JobCancelledError extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} was cancelled`);
    this.name = 'JobCancelledError';
  }
}

/** The discover/extend steps of one job against its output root; null when the job was cancelled before writing. */
export async function discoverOrExtend(input: DiscoverInput, deps: DiscoverDeps): Promise<DiscoverOutcome | null> {
  if (input.mode !== 'discover' && input.mode !== 'extend') throw new UnrecoverableError(`discovery cannot run a ${input.mode} job`);
  const mode = input.mode;
  const log = deps.log;
  await mkdir(input.outputRoot, { recursive: true });
  // The lock key must be one string per folder, however the job spelled the path (symlinks, trailing slashes).
  const root = await realpath(input.outputRoot);
  const faces: DiscoveryFace[] = (await deps.faces.facesOfJobWithPaths(input.jobId, input.modelPack)).sort(compareFaces);
  log.info({ faces: faces.length, outputRoot: root, mode }, 'discovery started');
  deps.metrics?.discoveryFaces.observe(faces.length);

  let written;
  try {
    written = await deps.lock.withLock(root, async () => {
      // Another run of this job may have finished while this one waited for the lock: never undo a finished job.
      if (await deps.isFinished?.()) throw new JobCancelledError(input.jobId);
      const undone = { ...(await rollBackUnfinishedRun(root, input.jobId)), identities: await deps.identities.forgetUnfinishedJobSets(root, input.jobId) };
      if (undone.sets.length || undone.manifestEntries || undone.temps.length || undone.identities.length) {
        log.warn(undone, 'an interrupted run of this job left output behind: removed, the export is redone');
      }
      // Identities step: folders nobody recorded yet are adopted, PNGs deleted by hand become rejections.
      const synced = await deps.identities.syncLocked(root);
      if (synced.adopted.length || synced.rejected.length) log.info({ adopted: synced.adopted, handRejected: synced.rejected.length }, 'output root synced');
      const manifest = await readManifest(root);
      const state = await deps.identities.coverageState(root, input.modelPack);
      const covered = await timed(deps, 'coverage', async () => coverageStep({ faces, state, routeThreshold: input.params.routeThreshold }));
      const clusters = mode === 'discover'
        ? await timed(deps, 'clustering', () => clusteringStep(covered.uncovered, input.params, { ...deps, ...(deps.linkFor ? { link: deps.linkFor(input.jobId) } : {}) }))
        : null;
      // Everything above only read the output root; from here on it is written.
      if (deps.enterExporting && !(await deps.enterExporting())) throw new JobCancelledError(input.jobId);
      const exported = await timed(deps, 'export', () => exportStep(
        {
          root, jobId: input.jobId, mode, bucket: input.bucket, createdAt: input.createdAt, params: input.params, modelPack: input.modelPack,
          covered, clusters, manifestNames: manifestNames(manifest),
        },
        {
          decodeImage: deps.decodeImage,
          identities: deps.identities,
          log,
          afterCrops: async () => {
            if (await deps.isCancelled?.()) throw new JobCancelledError(input.jobId);
          },
        },
      ));
      // Eras step (params.eras): the job's new identities split into era sets, numbered after them.
      const erasBy = input.params.eras;
      const eras = clusters && erasBy !== 'none' && exported.added.length
        ? await timed(deps, 'eras', () => erasStep(
            {
              root, jobId: input.jobId, bucket: input.bucket, createdAt: input.createdAt, params: input.params, modelPack: input.modelPack,
              by: erasBy, origin: 'discovered',
              parents: exported.discovery!.facesets.flatMap((o, k) => (o.name ? [{ name: o.name, faces: clusters.plans[k]!.members.map((m) => m.face) }] : [])),
              usedNames: [...state.names, ...manifestNames(manifest), ...exported.added],
            },
            {
              captureTimesOf: async (shas) => (deps.imports ? deps.imports.captureTimesOf(shas, input.modelPack) : new Map()),
              decodeImage: deps.decodeImage,
              identities: deps.identities,
              ...(deps.kernel ? { kernel: deps.kernel } : {}),
            },
          ))
        : null;
      if (eras) {
        exported.added.push(...eras.added);
        exported.entries.facesets.push(...eras.entries.facesets);
        exported.entries.thin_eras.push(...eras.entries.thin_eras);
      }
      await timed(deps, 'manifest', () => manifestStep(root, manifest, exported));
      // Formats step: formats the job names are enabled on the root; every enabled one follows the records.
      await timed(deps, 'formats', () => deps.identities.refreshFormats(root, log, input.params));
      return { coverage: covered.coverage, ...exported, eras: eras?.splits ?? [] };
    });
  } catch (err) {
    if (err instanceof JobCancelledError) return null;
    throw err;
  }

  await testHold('reporting');
  const report = await timed(deps, 'report', () => reportStep({ root, jobId: input.jobId, base: input.report, coverage: written.coverage, discovery: written.discovery, eras: written.eras }, { log }));
  const event: ManifestEvent = { outputRoot: root, jobId: input.jobId, added: written.added, extended: written.extended };
  await timed(deps, 'events', () => publishStep(event, deps));
  log.info({ covered: written.coverage.covered, added: written.added, extended: written.extended }, 'discovery finished');
  return { coverage: written.coverage, discovery: written.discovery, added: written.added, extended: written.extended, report, event };
}

/**
 * Fault-test hook (FACESETS_TEST_HOLD=clustering:3000,exporting:3000,reporting:3000): waits at that point of the
 * stage, so a test can kill -9 the worker there: in `clustering` before anything is written, in `exporting` with
 * the crops in temp folders, in `reporting` with the sets and the manifest written but no report, in `callback`
 * with the job completed and its callback not queued yet.
 */
const HOLDS = new Map(
  (process.env.FACESETS_TEST_HOLD ?? '')
    .split(',')
    .filter(Boolean)
    .map((h) => h.split(':') as [string, string]),
);
async function testHold(point: 'clustering' | 'exporting' | 'reporting' | 'callback'): Promise<void> {
  const ms = Number(HOLDS.get(point) ?? 0);
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}

/** The summary GET /jobs/:id shows for a finished discover/extend job. */
export function discoverySummary(out: Pick<DiscoverOutcome, 'added' | 'extended' | 'coverage' | 'discovery'>) {
  return {
    added: out.added,
    extended: out.extended,
    facesCovered: out.coverage.covered,
    ...(out.discovery ? { clustersKept: out.discovery.clustersKept } : {}),
  };
}
