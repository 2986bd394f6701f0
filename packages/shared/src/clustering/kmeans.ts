// Spherical k-means on unit vectors (the coarse quantiser of the candidate index), scored by the GEMM kernel.
import { mulberry32 } from './prng';
import type { DotKernel } from './threshold-graph';
import type { EmbeddingMatrix } from './vectors';

export interface KMeansOptions {
  /** Number of centroids (lists). */
  k: number;
  /** Rows trained on, drawn without replacement [all when fewer]. */
  sample?: number;
  /** Lloyd iterations [8]. */
  iterations?: number;
  seed?: number;
}

/** Rows scored per GEMM call when assigning: a 4096 × k score block. */
const ROWS_PER_CALL = 4096;

/** k distinct row indices of n, a seeded partial Fisher–Yates shuffle. */
export function sampleRows(n: number, k: number, seed: number): Uint32Array {
  const r = mulberry32(seed);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const m = Math.min(k, n);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(r() * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx.slice(0, m).sort();
}

/** The rows of m named by `rows`, packed into a new matrix. */
export function gatherRows(m: EmbeddingMatrix, rows: ArrayLike<number>, out?: Float32Array): EmbeddingMatrix {
  const { dim } = m;
  const data = out && out.length >= rows.length * dim ? out : new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) {
    const o = rows[i]! * dim;
    data.set(m.data.subarray(o, o + dim), i * dim);
  }
  return { data, n: rows.length, dim };
}

/**
 * For every row of m, its `p` most similar centroids, best first (ties: lower centroid index), written to
 * out[row * p + r] (and their similarities to outSims, when given). Works through m in blocks so the score matrix never exceeds ROWS_PER_CALL × k.
 */
export async function nearestCentroids(
  m: EmbeddingMatrix,
  centroids: EmbeddingMatrix,
  p: number,
  kernel: DotKernel,
  out = new Int32Array(m.n * p),
  outSims?: Float32Array,
): Promise<Int32Array> {
  const k = centroids.n;
  const q = Math.min(p, k);
  const bestS = new Float32Array(q);
  for (let i0 = 0; i0 < m.n; i0 += ROWS_PER_CALL) {
    const i1 = Math.min(m.n, i0 + ROWS_PER_CALL);
    const block = { data: m.data.subarray(i0 * m.dim, i1 * m.dim), n: i1 - i0, dim: m.dim };
    const s = await kernel.multiply(block, centroids);
    for (let i = i0; i < i1; i++) {
      const base = (i - i0) * k;
      const o = i * p;
      let len = 0;
      // Insertion into a short sorted list: p is small (≤ 16), so this beats a heap.
      for (let c = 0; c < k; c++) {
        const v = s[base + c]!;
        if (len === q && !(v > bestS[q - 1]!)) continue;
        let pos = len < q ? len++ : q - 1;
        while (pos > 0 && v > bestS[pos - 1]!) {
          bestS[pos] = bestS[pos - 1]!;
          out[o + pos] = out[o + pos - 1]!;
          pos--;
        }
        bestS[pos] = v;
        out[o + pos] = c;
      }
      for (let r = q; r < p; r++) out[o + r] = -1;
      if (outSims) for (let r = 0; r < p; r++) outSims[o + r] = r < q ? bestS[r]! : -Infinity;
    }
  }
  return out;
}

/** Unit centroids (k × dim) of spherical k-means; an emptied centroid is re-seeded from a sampled row. */
export async function sphericalKMeans(m: EmbeddingMatrix, opts: KMeansOptions, kernel: DotKernel): Promise<EmbeddingMatrix> {
  const { dim } = m;
  const k = Math.max(1, Math.min(opts.k, m.n));
  const seed = opts.seed ?? 1;
  const train = gatherRows(m, sampleRows(m.n, Math.max(k, opts.sample ?? m.n), seed));
  const centroids = gatherRows(train, sampleRows(train.n, k, seed + 1));
  const r = mulberry32(seed + 2);
  const assign = new Int32Array(train.n);
  const sums = new Float64Array(k * dim);
  const counts = new Int32Array(k);
  for (let it = 0; it < (opts.iterations ?? 8); it++) {
    await nearestCentroids(train, centroids, 1, kernel, assign);
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < train.n; i++) {
      const c = assign[i]!;
      counts[c]!++;
      const o = i * dim, oc = c * dim;
      for (let d = 0; d < dim; d++) sums[oc + d]! += train.data[o + d]!;
    }
    for (let c = 0; c < k; c++) {
      const oc = c * dim;
      if (counts[c] === 0) {
        const o = Math.floor(r() * train.n) * dim;
        centroids.data.set(train.data.subarray(o, o + dim), oc);
        continue;
      }
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += sums[oc + d]! * sums[oc + d]!;
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let d = 0; d < dim; d++) centroids.data[oc + d] = sums[oc + d]! * inv;
    }
  }
  return centroids;
}
