// Clustering step: the uncovered faces of a discover job clustered, gated and planned for export.
import { discover, type ClusteringResult } from '@facesets/shared/clustering/discover';
import type { DotKernel } from '@facesets/shared/clustering/threshold-graph';
import type { DiscoveryFace } from '@facesets/shared/clustering/types';
import type { Logger } from '@facesets/shared/logger';
import type { JobParams } from '@facesets/shared/params';

export interface ClusteringDeps {
  /** Pair-finding kernel [pure JS]; the worker passes the onnxruntime GEMM one. */
  kernel?: DotKernel;
  log: Logger;
}

export async function clusteringStep(faces: readonly DiscoveryFace[], params: JobParams, deps: ClusteringDeps): Promise<ClusteringResult> {
  const started = performance.now();
  const found = await discover(faces, params, deps.kernel);
  deps.log.info({ ...found.report, ms: Math.round(performance.now() - started) }, 'clusters found');
  return found;
}
