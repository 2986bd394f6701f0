// Exact average-linkage clustering with a cannot-link constraint, sparse in the threshold graph (no n² matrix).
//
// Why it is exact without a distance matrix: with d(a,b) = 1 − a·b, the average distance between clusters A and B
// is 1 − S_A·S_B / (|A||B|), S being the sum of member embeddings, so one dot product of two sums gives it.
// Why the threshold graph suffices: an average ≤ t needs at least one member pair ≤ t, so only clusters joined by
// an edge of the t-graph can ever merge, and merged clusters inherit the union of their members' edges.
// Why the nearest-neighbour chain is exact: average linkage is reducible, d(X, A∪B) ≥ min(d(X,A), d(X,B)), and a
// cannot-link makes a distance +∞, which keeps that true; for reducible linkages merging reciprocal nearest
// neighbours yields the same hierarchy as always merging the globally closest pair (Murtagh; Müllner 2011), so the
// cut at the threshold is the same, at O(n) nearest-neighbour searches instead of a rescan per affected cluster.
import type { DotKernel, EdgeList } from './threshold-graph';
import type { EmbeddingMatrix } from './vectors';

export interface LinkageInput {
  m: EmbeddingMatrix;
  /** Source id of each row; rows with the same id (faces of one file) never end in one cluster. */
  sources: ArrayLike<number>;
  /** Merge while the closest allowed pair of clusters has average distance ≤ threshold. */
  threshold: number;
  /** Candidate pairs: every pair with distance ≤ threshold must be present; extra pairs are harmless. */
  edges: EdgeList;
}

/** Clusters as ascending row indices, largest first, ties by smallest row index. Every row is in exactly one. */
export function averageLinkage({ m, sources, threshold, edges }: LinkageInput): number[][] {
  const { n, dim, data } = m;
  if (sources.length !== n) throw new Error(`averageLinkage: ${sources.length} source ids for ${n} rows`);
  const cap = Math.max(1, 2 * n);
  const size = new Int32Array(cap);
  const parent = new Int32Array(cap).fill(-1);
  const alive = new Uint8Array(cap);
  /** No allowed neighbour within threshold, now or ever (reducibility): never looked at again. */
  const final = new Uint8Array(cap);
  const seen = new Uint32Array(cap);
  let token = 0;
  const adj: (Int32Array | null)[] = new Array<Int32Array | null>(cap).fill(null);
  const sums: (Float64Array | null)[] = new Array<Float64Array | null>(cap).fill(null);
  const srcs: (Int32Array | null)[] = new Array<Int32Array | null>(cap).fill(null);

  // Adjacency in CSR form; same-source pairs can never merge, so they are not candidates at all.
  const deg = new Int32Array(n + 1);
  for (let k = 0; k < edges.length; k++) {
    const a = edges.a[k]!, b = edges.b[k]!;
    if (sources[a] === sources[b] || a === b) continue;
    deg[a]!++;
    deg[b]!++;
  }
  const offset = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offset[i + 1] = offset[i]! + deg[i]!;
  const flat = new Int32Array(offset[n]!);
  const fill = offset.slice(0, n);
  for (let k = 0; k < edges.length; k++) {
    const a = edges.a[k]!, b = edges.b[k]!;
    if (sources[a] === sources[b] || a === b) continue;
    flat[fill[a]!++] = b;
    flat[fill[b]!++] = a;
  }
  for (let i = 0; i < n; i++) {
    size[i] = 1;
    alive[i] = 1;
    srcs[i] = Int32Array.of(sources[i]!);
    if (offset[i + 1]! > offset[i]!) adj[i] = flat.subarray(offset[i]!, offset[i + 1]!);
    else final[i] = 1;
  }

  const find = (x: number): number => {
    let r = x;
    while (parent[r]! >= 0) r = parent[r]!;
    while (parent[x]! >= 0) {
      const next = parent[x]!;
      parent[x] = r;
      x = next;
    }
    return r;
  };

  const clusterDot = (x: number, y: number): number => {
    const sx = sums[x], sy = sums[y];
    let s = 0;
    if (sx && sy) {
      for (let k = 0; k < dim; k++) s += sx[k]! * sy[k]!;
    } else if (sx || sy) {
      const sum = (sx ?? sy)!;
      const o = (sx ? y : x) * dim;
      for (let k = 0; k < dim; k++) s += sum[k]! * data[o + k]!;
    } else {
      const ox = x * dim, oy = y * dim;
      for (let k = 0; k < dim; k++) s += data[ox + k]! * data[oy + k]!;
    }
    return s;
  };
  const distance = (x: number, y: number): number => 1 - clusterDot(x, y) / (size[x]! * size[y]!);

  const shareSource = (x: number, y: number): boolean => {
    const a = srcs[x]!, b = srcs[y]!;
    let i = 0, j = 0;
    while (i < a.length && j < b.length) {
      if (a[i] === b[j]) return true;
      if (a[i]! < b[j]!) i++;
      else j++;
    }
    return false;
  };

  /**
   * x's nearest allowed neighbour within threshold (-1 if none), preferring `prefer` on a tie so the chain never
   * cycles, then the smaller id. Compacts x's adjacency to live, distinct, allowed clusters on the way.
   */
  const nearest = (x: number, prefer: number): number => {
    const list = adj[x];
    if (!list) return -1;
    let best = -1, bestD = Infinity, kept = 0;
    token++;
    seen[x] = token;
    for (let k = 0; k < list.length; k++) {
      const r = find(list[k]!);
      if (seen[r] === token) continue;
      seen[r] = token;
      const d = distance(x, r);
      if (d <= threshold && (d < bestD || (d === bestD && (r === prefer || (best !== prefer && r < best))))) {
        if (shareSource(x, r)) continue; // dropped for good: sources only grow
        best = r;
        bestD = d;
      }
      list[kept++] = r;
    }
    adj[x] = kept === 0 ? null : kept < list.length ? list.subarray(0, kept) : list;
    return best;
  };

  let next = n;
  const merge = (a: number, b: number): void => {
    const c = next++;
    size[c] = size[a]! + size[b]!;
    const sum = new Float64Array(dim);
    for (const x of [a, b]) {
      const s = sums[x];
      if (s) for (let k = 0; k < dim; k++) sum[k]! += s[k]!;
      else for (let k = 0, o = x * dim; k < dim; k++) sum[k]! += data[o + k]!;
    }
    sums[c] = sum;
    srcs[c] = mergeSorted(srcs[a]!, srcs[b]!);
    parent[a] = c;
    parent[b] = c;
    alive[a] = 0;
    alive[b] = 0;
    alive[c] = 1;
    // c's neighbours: the union of a's and b's, resolved to live clusters.
    const la = adj[a], lb = adj[b];
    const list = new Int32Array((la?.length ?? 0) + (lb?.length ?? 0));
    let len = 0;
    token++;
    seen[c] = token;
    for (const l of [la, lb]) {
      if (!l) continue;
      for (let k = 0; k < l.length; k++) {
        const r = find(l[k]!);
        if (seen[r] === token) continue;
        seen[r] = token;
        list[len++] = r;
      }
    }
    adj[c] = len ? list.subarray(0, len) : null;
    adj[a] = adj[b] = sums[a] = sums[b] = srcs[a] = srcs[b] = null;
  };

  // Nearest-neighbour chain: follow nearest neighbours until two are each other's nearest, merge them, go on.
  const chain: number[] = [];
  // Ids only grow and a dead or final cluster stays so: one forward sweep visits every cluster that can still merge.
  for (let start = 0; ; start++) {
    while (start < next && (!alive[start] || final[start])) start++;
    if (start >= next) break;
    chain.push(start);
    while (chain.length) {
      const x = chain[chain.length - 1]!;
      const prev = chain.length >= 2 ? chain[chain.length - 2]! : -1;
      const y = nearest(x, prev);
      if (y < 0) {
        final[x] = 1;
        chain.pop();
      } else if (y === prev) {
        chain.length -= 2;
        merge(x, y);
      } else {
        chain.push(y);
      }
    }
  }

  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    const members = byRoot.get(r);
    if (members) members.push(i);
    else byRoot.set(r, [i]);
  }
  return [...byRoot.values()].sort((p, q) => q.length - p.length || p[0]! - q[0]!);
}

function mergeSorted(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  let i = 0, j = 0, k = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! <= b[j]!)) out[k++] = a[i++]!;
    else out[k++] = b[j++]!;
  }
  return out;
}

/** Slack on the candidate bound so a float32 kernel's rounding never loses a pair that is within threshold. */
const CANDIDATE_SLACK = 1e-4;

/** Average linkage of a matrix end to end: candidate pairs from a DotKernel, then the exact sparse linkage. */
export async function clusterByAverageLinkage(
  m: EmbeddingMatrix,
  sources: ArrayLike<number>,
  threshold: number,
  kernel: DotKernel,
): Promise<number[][]> {
  const edges = await kernel.pairsAtLeast(m, 1 - threshold - CANDIDATE_SLACK);
  return averageLinkage({ m, sources, threshold, edges });
}
