// Scan stage: walk the bucket, hash every image, record its paths, consult the cache, fan out embed batches.
import { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FlowJob, FlowProducer, Job } from 'bullmq';
import type { JobsRepository } from '@facesets/shared/db/jobs.repository';
import type { SourcesRepository, SeenPath } from '@facesets/shared/db/sources.repository';
import { countInto, emptyScanStats, recordSkipped, ROOT_FILE, type ScanStats } from '@facesets/shared/jobs/scan-stats';
import { isTerminal } from '@facesets/shared/jobs/state';
import { REPORT_LIST_LIMIT } from '@facesets/shared/report/types';
import type { Logger } from '@facesets/shared/logger';
import type { EmbedMetrics } from '@facesets/shared/metrics/metrics';
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
import { fsPath } from '@facesets/shared/jobs/fs-path';
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
  /** Paths written to Postgres per round trip [2000]. */
  flushSize?: number;
  /** Embed batches added to Redis per round trip [500]: a 500k-file bucket never becomes one giant flow. */
  fanOutChunk?: number;
  /** Counts the sources found cached (Prometheus). */
  metrics?: Pick<EmbedMetrics, 'recordCached'>;
}

export type ScanOutcome =
  | { status: 'scanned'; found: number; toEmbed: number; batches: number }
  | { status: 'skipped'; reason: string };

interface WalkCounts {
  found: number;
  skipped: number;
  scanErrors: number;
  /** Files not hashed again: same path, size and mtime as the last scan recorded (never with force). */
  reused: number;
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
        batches: Math.ceil((counts.toEmbed + counts.reblur) / deps.batchSize),
      },
      walked.stats,
    );
    if (!recorded) return { status: 'skipped', reason: 'job was cancelled' };
    deps.metrics?.recordCached(counts.cached);
    log.info({ found: walked.found, skipped: walked.skipped, reused: walked.reused, distinct, toEmbed: counts.toEmbed, reblur: counts.reblur }, 'scan recorded');
  }

  const { toEmbed, batches } = await fanOut(jobId, deps);
  log.info({ toEmbed, batches }, 'embed batches queued');
  const latest = await deps.jobs.get(jobId);
  return { status: 'scanned', found: latest?.found ?? 0, toEmbed, batches };
}

/** Batch number of the fan-out's barrier child: it holds the parent back until every batch has been added. */
export const BARRIER_BATCH = -1;
/** The barrier waits delayed until the fan-out promotes it; a scan that died meanwhile is retried long before. */
const BARRIER_DELAY_MS = 7 * 24 * 3600 * 1000;

/**
 * Adds the embed batches in chunks of fanOutChunk under one `cluster` parent. The parent is created first, with
 * a delayed, empty barrier child, so it cannot run while later chunks are still being added; once all are in,
 * the barrier is promoted (an empty batch completes at once) and the parent runs after the last batch. Job ids
 * are deterministic, so a retried fan-out re-adds nothing that exists.
 */
async function fanOut(jobId: string, deps: ScanDeps): Promise<{ toEmbed: number; batches: number }> {
  const perChunk = Math.max(1, deps.fanOutChunk ?? 500);
  const node = await deps.flow.add(clusterFlow(jobId, [], { barrier: true }));
  const parent = { id: node.job.id!, queue: node.job.queueQualifiedName };
  let after: string | null = null, batch = 0, toEmbed = 0;
  for (;;) {
    const files = await deps.sources.toEmbedPage(jobId, after, perChunk * deps.batchSize);
    if (files.length === 0) break;
    after = files[files.length - 1]!.sha256;
    toEmbed += files.length;
    const children = chunk(files, deps.batchSize).map((f) => embedChild(jobId, batch++, f));
    await deps.flow.addBulk(children.map((c) => ({ ...c, opts: { ...c.opts, parent } })));
  }
  const barrier = node.children?.[0]?.job as Job | undefined;
  // Already promoted (or done) on a retried fan-out: nothing left to release.
  await barrier?.promote().catch(() => undefined);
  return { toEmbed, batches: batch };
}

function embedChild(jobId: string, batch: number, files: EmbedFile[]): FlowJob {
  return {
    name: QUEUE.embed,
    queueName: QUEUE.embed,
    data: { jobId, batch, files } satisfies EmbedPayload,
    opts: { ...EMBED_CHILD_OPTIONS, jobId: bullJobId.embed(jobId, batch) },
  };
}

/**
 * The parent `cluster` job runs once every `embed` child has completed; with nothing to embed it runs at once.
 * With `barrier`, its first child is an empty batch held delayed until the caller promotes it.
 */
export function clusterFlow(jobId: string, batches: EmbedFile[][], opts: { barrier?: boolean } = {}): FlowJob {
  const barrier: FlowJob[] = opts.barrier
    ? [{ ...embedChild(jobId, BARRIER_BATCH, []), opts: { ...EMBED_CHILD_OPTIONS, jobId: bullJobId.embed(jobId, 'barrier'), delay: BARRIER_DELAY_MS } }]
    : [];
  return {
    name: QUEUE.cluster,
    queueName: QUEUE.cluster,
    data: { jobId },
    opts: { ...DEFAULT_JOB_OPTIONS, jobId: bullJobId.cluster(jobId) },
    children: [...barrier, ...batches.map((files, batch) => embedChild(jobId, batch, files))],
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
  const flushSize = deps.flushSize ?? 2000;
  const counts: WalkCounts = { found: 0, skipped: 0, scanErrors: 0, reused: 0, stats: emptyScanStats() };
  let pending: SeenPath[] = [];

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

  let walked: { path: string; folder: string | null }[] = [];
  /**
   * Stats the walked paths (many at once: a stat is cheap); those whose (size, mtime) match the last scan keep its
   * sha256, the rest are hashed (`concurrency` at once). Results keep the walk's order, so the first path of each
   * content, which becomes the job's path for it, is the same on every run.
   */
  const hashWalked = async (): Promise<void> => {
    const entries = walked;
    walked = [];
    const known = force
      ? new Map<string, { sha256: string; size: number; mtime: Date | null }>()
      : await deps.sources.knownPaths(entries.map((e) => e.path));
    const seen: (SeenPath | { error: string } | Stats)[] = await mapLimit(entries, STAT_CONCURRENCY, async ({ path, folder }) => {
      try {
        const info = await stat(fsPath(path));
        const k = known.get(path);
        if (!k || k.size !== info.size || k.mtime === null || k.mtime.getTime() !== info.mtime.getTime()) return info;
        counts.reused += 1;
        return { path, sha256: k.sha256, size: info.size, mtime: info.mtime, ...(folder !== null ? { folder } : {}) };
      } catch (err) {
        return { error: `read: ${(err as Error).message}` };
      }
    });
    const toHash = seen.flatMap((r, i) => (r instanceof Stats ? [i] : []));
    await mapLimit(toHash, concurrency, async (i) => {
      const { path, folder } = entries[i]!;
      try {
        seen[i] = { path, ...(await hashFile(path, seen[i] as Stats)), ...(folder !== null ? { folder } : {}) };
      } catch (err) {
        seen[i] = { error: `read: ${(err as Error).message}` };
      }
    });
    seen.forEach((r, i) => {
      if ('error' in r) {
        counts.scanErrors += 1;
        counts.stats.errorFiles.push({ path: entries[i]!.path, reason: r.error });
      } else pending.push(r as SeenPath);
    });
  };

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
    walked.push({ path: entry.path, folder });
    if (walked.length >= flushSize) {
      await hashWalked();
      if (!(await flush())) return null;
    }
  }
  await hashWalked();
  if (!(await flush())) return null;
  // The full unreadable list goes to Postgres; the report keeps the first REPORT_LIST_LIMIT by path.
  counts.stats.errorFiles.sort((a, b) => a.path.localeCompare(b.path));
  await deps.sources.recordScanErrors(jobId, counts.stats.errorFiles);
  counts.stats.errorFiles = counts.stats.errorFiles.slice(0, REPORT_LIST_LIMIT);
  return counts;
}

/** Stats at once while re-scanning: they mostly answer from the kernel's caches, so the limit is only a bound. */
const STAT_CONCURRENCY = 64;

/** fn over items, at most `limit` at once; results in the items' order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
