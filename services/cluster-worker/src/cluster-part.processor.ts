// Cluster-part stage: the exact average linkage of one part of a job's candidate graph, answered as labels.
import { hostname } from 'node:os';
import { labelsOfClusters } from '@facesets/shared/clustering/distributed-linkage';
import { averageLinkage } from '@facesets/shared/clustering/linkage';
import type { ClusterPartsRepository } from '@facesets/shared/db/cluster-parts.repository';
import type { Logger } from '@facesets/shared/logger';
import type { ClusterPartPayload } from '@facesets/shared/queues';

export interface ClusterPartDeps {
  parts: ClusterPartsRepository;
  log: Logger;
}

/** Who answered a part (stored with it): host and process. */
export const WORKER_NAME = `${hostname()}:${process.pid}`;

export async function processClusterPart(payload: ClusterPartPayload, deps: ClusterPartDeps): Promise<{ faces: number; clusters: number } | null> {
  const { jobId, part } = payload;
  const log = deps.log.child({ jobId, stage: 'cluster-part', part });
  const work = await deps.parts.load(jobId, part);
  // The step that asked has moved on (retried, or finished): nothing to answer.
  if (!work) return null;
  const started = performance.now();
  try {
    const clusters = averageLinkage({ m: work.m, sources: work.sources, threshold: work.threshold, edges: work.edges });
    await deps.parts.answer(jobId, part, { labels: labelsOfClusters(work.m.n, clusters), worker: WORKER_NAME });
    log.info({ faces: work.m.n, edges: work.edges.length, clusters: clusters.length, ms: Math.round(performance.now() - started) }, 'part clustered');
    return { faces: work.m.n, clusters: clusters.length };
  } catch (err) {
    // A linkage that throws will throw again: answer with the error so the waiting step fails now, not at its timeout.
    await deps.parts.answer(jobId, part, { error: (err as Error).message, worker: WORKER_NAME });
    throw err;
  }
}
