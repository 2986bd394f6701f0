// Reconciler: finds active jobs whose queue work is gone, failed or stuck (a missed join), and re-drives or fails them.
import type { Job, Queue } from 'bullmq';
import { MAX_STALLED_COUNT, failureReason } from '@facesets/shared/jobs/bull';
import type { JobsRepository } from '@facesets/shared/db/jobs.repository';
import {
  DEFAULT_JOB_OPTIONS,
  QUEUE,
  bullJobId,
  type CallbackPayload,
  type ClusterPayload,
  type EmbedPayload,
  type ScanPayload,
} from '@facesets/shared/queues';
import type { JobState } from '@facesets/shared/jobs/state';
import type { Logger } from '@facesets/shared/logger';

export interface ReconcilerDeps {
  jobs: JobsRepository;
  queues: { scan: Queue<ScanPayload>; embed: Queue<EmbedPayload>; cluster: Queue<ClusterPayload> };
  log: Logger;
  /** An active job untouched this long has its queue work inspected. */
  idleMs: number;
  /** Re-drives of one job before it fails [3]. */
  maxRedrives?: number;
  /** Queues a completed job's callback that a crash left unqueued (same deterministic id: a repeat is a no-op). */
  enqueueCallback?(payload: CallbackPayload): Promise<void>;
  /** Told what every timed pass did (metrics). */
  onPass?(done: PassResult): void;
}

export interface PassResult {
  checked: number;
  redriven: string[];
  failed: string[];
  callbacks: string[];
}

export type Verdict =
  | { action: 'ok'; why: string }
  | { action: 'fail'; reason: string }
  | { action: 'redrive'; stage: 'scan' | 'cluster'; why: string };

interface IdleJob {
  id: string;
  state: JobState;
  scanned: boolean;
  allEmbedded: boolean;
}

const LIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

async function stateOf(queue: Queue, id: string): Promise<{ job: Job | undefined; state: string }> {
  const job = await queue.getJob(id);
  return { job, state: job ? await job.getState() : 'missing' };
}

/** Decides what an idle active job needs, from its BullMQ work; changes nothing. */
export async function inspect(job: IdleJob, deps: ReconcilerDeps): Promise<Verdict> {
  const { scan, embed, cluster } = deps.queues;
  // A scan in the queue (first run, or a re-drive re-adding the flow) is progress whatever the job's state.
  const s = await stateOf(scan, bullJobId.scan(job.id));
  if (s.state === 'failed') return { action: 'fail', reason: failureReason('scan', new Error(s.job?.failedReason ?? 'unknown reason'), MAX_STALLED_COUNT) };
  if (LIVE.has(s.state)) return { action: 'ok', why: `scan is ${s.state}` };
  if (job.state === 'queued' || job.state === 'scanning' || !job.scanned) {
    return { action: 'redrive', stage: 'scan', why: `scan job is ${s.state}` };
  }
  const c = await stateOf(cluster, bullJobId.cluster(job.id));
  if (c.state === 'failed') {
    const children = c.job ? Object.values(await c.job.getFailedChildrenValues()) : [];
    const [child] = children;
    if (child !== undefined) return { action: 'fail', reason: failureReason('an embed batch', new Error(child), MAX_STALLED_COUNT) };
    return { action: 'fail', reason: failureReason('cluster', new Error(c.job?.failedReason ?? 'unknown reason'), MAX_STALLED_COUNT) };
  }
  if (c.state === 'waiting-children' && c.job) {
    const deps2 = await c.job.getDependencies({ unprocessed: { count: 1000 } });
    const unprocessed = deps2.unprocessed ?? [];
    let alive = 0;
    for (const key of unprocessed) {
      const childId = key.slice(key.lastIndexOf(':') + 1);
      const child = await stateOf(embed, childId);
      if (child.state === 'failed') {
        return { action: 'fail', reason: failureReason('an embed batch', new Error(child.job?.failedReason ?? 'unknown reason'), MAX_STALLED_COUNT) };
      }
      if (LIVE.has(child.state)) alive += 1;
    }
    // No batch left in the queue while the parent still waits: the join was missed. With every file recorded in
    // Postgres the cluster stage can run; otherwise the lost batches are queued again (the scan re-adds the flow).
    if (alive === 0) {
      const why = `parent waits for ${unprocessed.length} batches that are gone from the queue`;
      return job.allEmbedded ? { action: 'redrive', stage: 'cluster', why } : { action: 'redrive', stage: 'scan', why };
    }
    return { action: 'ok', why: `${alive} embed batches in the queue` };
  }
  if (LIVE.has(c.state)) return { action: 'ok', why: `cluster is ${c.state}` };
  // Cluster work gone (completed and removed without completing the job, or never added).
  if (job.state === 'embedding' && !job.allEmbedded) return { action: 'redrive', stage: 'scan', why: `cluster job is ${c.state} with batches left` };
  return { action: 'redrive', stage: 'cluster', why: `cluster job is ${c.state} while the job is ${job.state}` };
}

/** Re-queues the stage's work under its deterministic id (a finished or stuck job of that id is removed first). */
async function redrive(jobId: string, stage: 'scan' | 'cluster', deps: ReconcilerDeps): Promise<void> {
  if (stage === 'scan') {
    const old = await deps.queues.scan.getJob(bullJobId.scan(jobId));
    if (old && !(await old.isActive())) await old.remove();
    // A stuck parent (and what is left of its batches) goes: the re-run scan adds the whole flow again.
    const parent = await deps.queues.cluster.getJob(bullJobId.cluster(jobId));
    if (parent && !(await parent.isActive())) await parent.remove({ removeChildren: true });
    await deps.queues.scan.add(QUEUE.scan, { jobId }, { ...DEFAULT_JOB_OPTIONS, jobId: bullJobId.scan(jobId) });
    return;
  }
  const old = await deps.queues.cluster.getJob(bullJobId.cluster(jobId));
  if (old && !(await old.isActive())) await old.remove({ removeChildren: true });
  await deps.queues.cluster.add(QUEUE.cluster, { jobId }, { ...DEFAULT_JOB_OPTIONS, jobId: bullJobId.cluster(jobId) });
}

/** One pass over the idle active jobs; returns what it did. */
export async function reconcileOnce(deps: ReconcilerDeps): Promise<PassResult> {
  const out: PassResult = { checked: 0, redriven: [], failed: [], callbacks: [] };
  for (const job of await deps.jobs.idleActive(deps.idleMs)) {
    out.checked += 1;
    const log = deps.log.child({ jobId: job.id, stage: 'reconcile' });
    const verdict = await inspect(job, deps);
    if (verdict.action === 'ok') continue;
    if (verdict.action === 'fail') {
      if (await deps.jobs.fail(job.id, verdict.reason)) out.failed.push(job.id);
      log.warn({ reason: verdict.reason }, 'job failed by the reconciler: its queue work failed');
      continue;
    }
    const count = await deps.jobs.countRedrive(job.id);
    const max = deps.maxRedrives ?? 3;
    if (count > max) {
      const reason = `${verdict.stage} work was lost ${count} times (${verdict.why}); gave up`;
      if (await deps.jobs.fail(job.id, reason)) out.failed.push(job.id);
      log.error({ reason }, 'job failed by the reconciler');
      continue;
    }
    await redrive(job.id, verdict.stage, deps);
    out.redriven.push(job.id);
    log.warn({ stage: verdict.stage, why: verdict.why, redrives: count }, 'queue work re-driven by the reconciler');
  }
  if (deps.enqueueCallback) {
    for (const c of await deps.jobs.unqueuedCallbacks(deps.idleMs)) {
      await deps.enqueueCallback({ jobId: c.id, url: c.url, body: c.body });
      await deps.jobs.markCallbackQueued(c.id);
      out.callbacks.push(c.id);
      deps.log.warn({ jobId: c.id, stage: 'reconcile' }, 'callback a crash left unqueued: queued by the reconciler');
    }
  }
  return out;
}

/** Runs a pass every `intervalMs` (never two at once in this process); errors (an outage) wait for the next pass. */
export function startReconciler(deps: ReconcilerDeps, intervalMs: number): { stop(): Promise<void> } {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = reconcileOnce(deps)
      .then((done) => deps.onPass?.(done))
      .catch((err: unknown) => deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'reconcile pass failed'))
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
