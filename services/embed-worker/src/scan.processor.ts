// Scan stage: walk the bucket, hash every image, record its paths, consult the cache, fan out embed batches.
import type { FlowJob, FlowProducer } from 'bullmq';
import type { JobsRepository } from '@facesets/shared/db/jobs.repository';
import type { SourcesRepository, SeenPath } from '@facesets/shared/db/sources.repository';
import { countInto, emptyScanStats, recordSkipped, ROOT_FILE, type ScanStats } from '@facesets/shared/jobs/scan-stats';
import { isTerminal } from '@facesets/shared/jobs/state';
import type { Logger } from '@facesets/shared/logger';
import {
  DEFAULT_JOB_OPTIONS,
  EMBED_CHILD_OPTIONS,
  QUEUE,
  bullJobId,
  type EmbedFile,
  type EmbedPayload,
  type ScanPayload,
} from '@facesets/shared/queues';
import { hashFile } from './file-hash';
import { topLevelFolder, walkBucket } from '@facesets/shared/scan/walk';

export interface ScanDeps {
  jobs: JobsRepository;
  sources: SourcesRepository;
  flow: FlowProducer;
  /** Id of the model pack the embed stage runs; the cache is consulted for it. */
  modelPack: string;
  batchSize: number;
  log: Logger;
  /** Files hashed at once (I/O overlap) [4]. */
  hashConcurrency?: number;
  /** Paths written to Postgres per round trip [500]. */
  flushSize?: number;
}

export type ScanOutcome =
  | { status: 'scanned'; found: number; toEmbed: number; batches: number }
  | { status: 'skipped'; reason: string };

interface WalkCounts {
  found: number;
  skipped: number;
  scanErrors: number;
  stats: ScanStats;
}

export async function processScan(payload: ScanPayload, deps: ScanDeps): Promise<ScanOutcome> {
  const { jobId } = payload;
  const log = deps.log.child({ jobId, stage: 'scan' });
  const job = await deps.jobs.get(jobId);
  if (!job) return { status: 'skipped', reason: 'job does not exist' };
  if (isTerminal(job.state)) return { status: 'skipped', reason: `job is ${job.state}` };

  // A retry after the scan was recorded (crash before the fan-out) only re-adds the flow.
  if (!job.scannedAt) {
    if (!(await deps.jobs.transition(jobId, 'scanning', { phase: 'walking', modelPack: deps.modelPack }))) {
      return { status: 'skipped', reason: 'job left the queue meanwhile' };
    }
    log.info({ bucket: job.bucket }, 'scan started');
    const walked = await walkAndRecord(jobId, job.bucket, { force: job.force, byFolder: job.mode === 'import' }, deps);
    if (walked === null) return { status: 'skipped', reason: 'job was cancelled' };
    const counts = await deps.sources.cachedCounts(jobId, deps.modelPack);
    const distinct = counts.cached + counts.toEmbed;
    const recorded = await deps.jobs.recordScan(
      jobId,
      {
        found: walked.found,
        skipped: walked.skipped,
        aliases: walked.found - walked.scanErrors - distinct,
        cached: counts.cached,
        toEmbed: counts.toEmbed,
        scanErrors: walked.scanErrors,
        cachedNoface: counts.cachedNoface,
        cachedErrors: counts.cachedErrors,
        cachedFaces: counts.cachedFaces,
        batches: Math.ceil(counts.toEmbed / deps.batchSize),
      },
      walked.stats,
    );
    if (!recorded) return { status: 'skipped', reason: 'job was cancelled' };
    log.info({ found: walked.found, skipped: walked.skipped, distinct, toEmbed: counts.toEmbed }, 'scan recorded');
  }

  const files = await deps.sources.toEmbed(jobId);
  const batches = chunk(files, deps.batchSize);
  await deps.flow.add(clusterFlow(jobId, batches));
  log.info({ toEmbed: files.length, batches: batches.length }, 'embed batches queued');
  const latest = await deps.jobs.get(jobId);
  return { status: 'scanned', found: latest?.found ?? 0, toEmbed: files.length, batches: batches.length };
}

/** The parent `cluster` job runs once every `embed` child has completed; with nothing to embed it runs at once. */
export function clusterFlow(jobId: string, batches: EmbedFile[][]): FlowJob {
  return {
    name: QUEUE.cluster,
    queueName: QUEUE.cluster,
    data: { jobId },
    opts: { ...DEFAULT_JOB_OPTIONS, jobId: bullJobId.cluster(jobId) },
    children: batches.map((files, batch) => ({
      name: QUEUE.embed,
      queueName: QUEUE.embed,
      data: { jobId, batch, files } satisfies EmbedPayload,
      opts: { ...EMBED_CHILD_OPTIONS, jobId: bullJobId.embed(jobId, batch) },
    })),
  };
}

interface WalkOptions {
  force: boolean;
  /** Import jobs: record each path's top-level folder; images directly in the bucket root are skipped. */
  byFolder: boolean;
}

/** Walks and hashes the bucket, writing paths and distinct sources in batches; null when the job was cancelled. */
async function walkAndRecord(jobId: string, bucket: string, { force, byFolder }: WalkOptions, deps: ScanDeps): Promise<WalkCounts | null> {
  const concurrency = deps.hashConcurrency ?? 4;
  const flushSize = deps.flushSize ?? 500;
  const counts: WalkCounts = { found: 0, skipped: 0, scanErrors: 0, stats: emptyScanStats() };
  let pending: SeenPath[] = [];
  const inflight = new Set<Promise<void>>();

  const flush = async (): Promise<boolean> => {
    const batch = pending;
    pending = [];
    if (batch.length) {
      await deps.sources.recordPaths(jobId, bucket, batch);
      // First path of each content within the batch; across batches the first INSERT wins.
      const firsts = new Map<string, EmbedFile>();
      for (const p of batch) if (!firsts.has(p.sha256)) firsts.set(p.sha256, { sha256: p.sha256, path: p.path });
      await deps.sources.addJobSources(jobId, deps.modelPack, force, [...firsts.values()]);
    }
    await deps.jobs.setFound(jobId, counts.found);
    return deps.jobs.isActive(jobId);
  };

  const hashOne = async (path: string, folder: string | null): Promise<void> => {
    try {
      pending.push({ path, ...(await hashFile(path)), ...(folder !== null ? { folder } : {}) });
    } catch (err) {
      counts.scanErrors += 1;
      counts.stats.errorFiles.push({ path, reason: `read: ${(err as Error).message}` });
    }
  };

  let sinceFlush = 0;
  for await (const entry of walkBucket(bucket)) {
    if (entry.kind === 'skipped') {
      counts.skipped += 1;
      recordSkipped(counts.stats, entry.key, entry.path);
      continue;
    }
    const folder = byFolder ? topLevelFolder(bucket, entry.path) : null;
    if (byFolder && folder === null) {
      counts.skipped += 1;
      countInto(counts.stats.skippedByExtension, ROOT_FILE);
      (counts.stats.rootFiles ??= []).push(entry.path);
      continue;
    }
    counts.found += 1;
    countInto(counts.stats.byExtension, entry.ext);
    const p: Promise<void> = hashOne(entry.path, folder).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= concurrency) await Promise.race(inflight);
    if (++sinceFlush >= flushSize) {
      sinceFlush = 0;
      if (!(await flush())) return null;
    }
  }
  await Promise.all(inflight);
  if (!(await flush())) return null;
  // Sort the unreadable list for a stable report.
  counts.stats.errorFiles.sort((a, b) => a.path.localeCompare(b.path));
  return counts;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
