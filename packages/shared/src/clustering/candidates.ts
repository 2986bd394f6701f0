// Candidate pairs of discovery: every pair within the threshold, by all pairs (small jobs) or the IVF index (large).
import type { DotKernel, EdgeList } from './threshold-graph';
import type { EmbeddingMatrix } from './vectors';
import { buildIvf, ivfPairs, type IvfIndex, type IvfOptions } from './ivf-pairs';

export interface CandidateOptions extends IvfOptions {
  /** Below this many faces all pairs are scored (exact, and faster than building an index there) [20,000]. */
  exactBelow?: number;
  /** Nearest edges kept per face on the index path [16]; 0 keeps every pair found. See IvfPairsOptions. */
  maxEdgesPerFace?: number;
  /** Sees the candidate graph and, on the index path, the index (benchmarks measure recall with it). */
  onCandidates?: (c: { edges: EdgeList; index: IvfIndex | null }) => void;
}

export const EXACT_BELOW = 20_000;
export const MAX_EDGES_PER_FACE = 16;

/** Slack on the candidate bound so a float32 kernel's rounding never loses a pair that is within threshold. */
export const CANDIDATE_SLACK = 1e-4;

/** Pairs that may be within `threshold` (cosine distance); linkage judges each exactly, so extras are harmless. */
export async function candidatePairs(
  m: EmbeddingMatrix,
  threshold: number,
  kernel: DotKernel,
  opts: CandidateOptions = {},
): Promise<EdgeList> {
  const minDot = 1 - threshold - CANDIDATE_SLACK;
  if (m.n < (opts.exactBelow ?? EXACT_BELOW)) {
    const edges = await kernel.pairsAtLeast(m, minDot);
    opts.onCandidates?.({ edges, index: null });
    return edges;
  }
  const index = await buildIvf(m, kernel, opts);
  const edges = await ivfPairs(m, index, minDot, kernel, { maxEdgesPerFace: opts.maxEdgesPerFace ?? MAX_EDGES_PER_FACE });
  opts.onCandidates?.({ edges, index });
  return edges;
}
