// Linkage of a big candidate graph on several workers: whole components per part, parts clustered elsewhere, joined here.
import type { LinkageRunner } from './discover-table';
import { averageLinkage } from './linkage';
import { joinParts, partInputs, splitGraph } from './parts';
import type { EdgeList } from './threshold-graph';
import type { EmbeddingMatrix } from './vectors';

/** One part as sent to a worker: its faces' embeddings and source ids, its edges, all in part-local rows. */
export interface PartWork {
  m: EmbeddingMatrix;
  sources: Int32Array;
  edges: EdgeList;
  threshold: number;
}

/** Runs the parts somewhere (BullMQ jobs in the cluster worker) and resolves with each part's clusters, in order. */
export type PartRunner = (parts: PartWork[]) => Promise<number[][][]>;

export interface DistributedLinkageOptions {
  /** Parts to split into at most. */
  parts: number;
  /** Below this many faces the linkage runs here (sending it away costs more than it saves). */
  minFaces: number;
  run: PartRunner;
}

export function distributedLinkage(opts: DistributedLinkageOptions): LinkageRunner {
  return async (input) => {
    if (input.m.n < opts.minFaces || opts.parts < 2) return averageLinkage(input);
    const split = splitGraph(input.m.n, input.edges, opts.parts);
    const work = split.parts.map((p) => ({ ...partInputs(input.m, input.sources, p), edges: p.edges, threshold: input.threshold }));
    return joinParts(split, work.length ? await opts.run(work) : []);
  };
}

/** Cluster label of each part-local row, from the part's clusters (what a worker stores). */
export function labelsOfClusters(n: number, clusters: readonly (readonly number[])[]): Int32Array {
  const label = new Int32Array(n).fill(-1);
  clusters.forEach((c, k) => c.forEach((i) => (label[i] = k)));
  return label;
}

/** The clusters back from labels, in label order (the order averageLinkage gave them). */
export function clustersOfLabels(label: Int32Array): number[][] {
  const out: number[][] = [];
  label.forEach((k, i) => (out[k] ??= []).push(i));
  return out;
}
