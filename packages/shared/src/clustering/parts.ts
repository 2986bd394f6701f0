// Splitting the candidate graph into parts of whole connected components, and joining the parts' clusters back.
//
// Faces of different components share no candidate edge, so average linkage never merges them: clustering each
// part alone and taking the union gives the clusters of one run over the whole graph. Rows keep their global order
// inside a part, so linkage's tie-breaks (smaller id first) fall the same way.
import { connectedComponents } from './components';
import { EdgeList } from './threshold-graph';
import type { EmbeddingMatrix } from './vectors';
import { gatherRows } from './kmeans';

export interface GraphPart {
  /** Global rows of the part, ascending. */
  rows: Int32Array;
  /** The part's edges in part-local row numbers. */
  edges: EdgeList;
}

export interface GraphSplit {
  parts: GraphPart[];
  /** Rows without any edge: each is its own cluster, no work to send anywhere. */
  singletons: Int32Array;
}

/**
 * Whole components dealt into at most `count` parts, largest component first onto the part with the fewest rows
 * (ties: the lower part), so parts come out balanced and the split is the same on every run.
 */
export function splitGraph(n: number, edges: EdgeList, count: number): GraphSplit {
  const { label, count: components } = connectedComponents(n, edges);
  const size = new Int32Array(components);
  for (let i = 0; i < n; i++) size[label[i]!]!++;
  const order = Array.from({ length: components }, (_, c) => c).filter((c) => size[c]! > 1);
  order.sort((a, b) => size[b]! - size[a]! || a - b);
  const parts = Math.max(1, Math.min(count, order.length));
  const load = new Float64Array(parts);
  const partOf = new Int32Array(components).fill(-1);
  for (const c of order) {
    let best = 0;
    for (let p = 1; p < parts; p++) if (load[p]! < load[best]!) best = p;
    partOf[c] = best;
    load[best]! += size[c]!;
  }
  const rows: number[][] = Array.from({ length: parts }, () => []);
  const local = new Int32Array(n);
  const singletons: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = partOf[label[i]!]!;
    if (p < 0) singletons.push(i);
    else {
      local[i] = rows[p]!.length;
      rows[p]!.push(i);
    }
  }
  const out: GraphPart[] = rows.map((r) => ({ rows: Int32Array.from(r), edges: new EdgeList() }));
  for (let k = 0; k < edges.length; k++) {
    const a = edges.a[k]!, b = edges.b[k]!;
    if (a === b) continue;
    out[partOf[label[a]!]!]!.edges.push(local[a]!, local[b]!);
  }
  return { parts: order.length ? out : [], singletons: Int32Array.from(singletons) };
}

/** A part's embeddings and source ids, packed for sending (local row order). */
export function partInputs(m: EmbeddingMatrix, sources: ArrayLike<number>, part: GraphPart): { m: EmbeddingMatrix; sources: Int32Array } {
  return { m: gatherRows(m, part.rows), sources: Int32Array.from(part.rows, (r) => sources[r]!) };
}

/** The union of the parts' clusters (part-local rows) and the singletons, ordered as averageLinkage orders its output. */
export function joinParts(split: GraphSplit, clusters: readonly (readonly (readonly number[])[])[]): number[][] {
  const out: number[][] = [];
  split.parts.forEach((part, p) => {
    for (const c of clusters[p] ?? []) out.push(c.map((i) => part.rows[i]!));
  });
  for (const s of split.singletons) out.push([s]);
  return out.sort((p, q) => q.length - p.length || p[0]! - q[0]!);
}
