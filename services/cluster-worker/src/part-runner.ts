// Runs the parts of one job's linkage as cluster-part jobs that any cluster worker takes, and waits for the answers.
import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import { clustersOfLabels, type PartRunner } from '@facesets/shared/clustering/distributed-linkage';
import type { ClusterPartsRepository } from '@facesets/shared/db/cluster-parts.repository';
import type { Logger } from '@facesets/shared/logger';
import { DEFAULT_JOB_OPTIONS, QUEUE, bullJobId, type ClusterPartPayload } from '@facesets/shared/queues';

export interface PartRunnerDeps {
  parts: ClusterPartsRepository;
  queue: Queue<ClusterPartPayload>;
  log: Logger;
  /** How often the answers are looked at [250 ms]. */
  pollMs?: number;
  /** Gives up waiting after this long [1 h]. */
  timeoutMs?: number;
}

export function createPartRunner(jobId: string, deps: PartRunnerDeps): PartRunner {
  return async (work) => {
    const attempt = randomBytes(4).toString('hex');
    const log = deps.log.child({ jobId, stage: 'clustering', attempt });
    await deps.parts.save(jobId, work);
    await deps.queue.addBulk(
      work.map((_, part) => ({
        name: QUEUE.clusterPart,
        data: { jobId, part },
        opts: { ...DEFAULT_JOB_OPTIONS, jobId: bullJobId.clusterPart(jobId, attempt, part) },
      })),
    );
    log.info({ parts: work.length, faces: work.map((w) => w.m.n) }, 'linkage parts queued');
    const deadline = Date.now() + (deps.timeoutMs ?? 3_600_000);
    try {
      for (;;) {
        const answers = await deps.parts.answers(jobId);
        const failed = answers.find((a) => a.error);
        if (failed) throw new Error(`linkage part ${failed.part} failed on ${failed.worker}: ${failed.error}`);
        if (answers.length === work.length && answers.every((a) => a.labels)) {
          log.info({ workers: [...new Set(answers.map((a) => a.worker))] }, 'linkage parts answered');
          return answers.map((a) => clustersOfLabels(a.labels!));
        }
        if (Date.now() > deadline) throw new Error(`linkage parts of job ${jobId} not answered in time`);
        await new Promise((r) => setTimeout(r, deps.pollMs ?? 250));
      }
    } finally {
      await deps.parts.clear(jobId).catch(() => undefined);
    }
  };
}
