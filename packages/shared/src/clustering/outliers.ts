// Iterative outlier rejection: drop the face farthest from the re-normalised centroid while it is beyond a threshold.
import { cosineDistance, normalize } from './vectors';

/** Outlier rejection applies to sets of at least this many faces: a centroid of fewer is dominated by each face. */
export const OUTLIER_MIN_FACES = 4;

export interface OutlierResult {
  /** Indices into the input that remain, ascending. */
  kept: number[];
  /** Indices dropped, in the order they were dropped. */
  dropped: number[];
  /** Unit centroid of the kept vectors (null when none). */
  centroid: Float32Array | null;
  /** Cosine distance of each kept vector to that centroid, aligned with `kept`. */
  distances: number[];
}

/**
 * Drops the farthest vector from the centroid of the current set (centroid recomputed after each drop) while its
 * distance exceeds `threshold` and the set still holds at least `minFaces` vectors. Ties drop the lower index.
 */
export function rejectOutliers(
  vectors: readonly Float32Array[],
  threshold: number,
  minFaces = OUTLIER_MIN_FACES,
): OutlierResult {
  const dim = vectors[0]?.length ?? 0;
  const live = vectors.map(() => true);
  let count = vectors.length;
  const sum = new Float64Array(dim);
  for (const v of vectors) for (let k = 0; k < dim; k++) sum[k]! += v[k]!;
  const dropped: number[] = [];
  const distancesTo = (c: Float32Array): number[] => vectors.map((v) => cosineDistance(v, c));
  for (;;) {
    if (count === 0) break;
    const c = normalize(sum);
    if (count < minFaces) break;
    const d = distancesTo(c);
    let worst = -1;
    for (let i = 0; i < vectors.length; i++) if (live[i] && (worst < 0 || d[i]! > d[worst]!)) worst = i;
    if (!(d[worst]! > threshold)) break;
    live[worst] = false;
    count--;
    dropped.push(worst);
    for (let k = 0; k < dim; k++) sum[k]! -= vectors[worst]![k]!;
  }
  const kept = vectors.flatMap((_, i) => (live[i] ? [i] : []));
  if (kept.length === 0) return { kept, dropped, centroid: null, distances: [] };
  // Recomputed from the survivors rather than from the running sum, so float drift never reaches the report.
  const c = new Float64Array(dim);
  for (const i of kept) for (let k = 0; k < dim; k++) c[k]! += vectors[i]![k]!;
  const centroid = normalize(c);
  const all = distancesTo(centroid);
  return { kept, dropped, centroid, distances: kept.map((i) => all[i]!) };
}
