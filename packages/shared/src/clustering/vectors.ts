// Vector maths of discovery: dot products, cosine distance, re-normalised centroids, packed embedding matrices.

/** n row vectors of `dim` float32 each, packed row-major in one buffer (one allocation, cache-friendly scans). */
export interface EmbeddingMatrix {
  data: Float32Array;
  n: number;
  dim: number;
}

export function packEmbeddings(vectors: readonly Float32Array[], dim?: number): EmbeddingMatrix {
  const d = dim ?? vectors[0]?.length ?? 0;
  const data = new Float32Array(vectors.length * d);
  vectors.forEach((v, i) => {
    if (v.length !== d) throw new Error(`packEmbeddings: vector ${i} has ${v.length} dimensions, expected ${d}`);
    data.set(v, i * d);
  });
  return { data, n: vectors.length, dim: d };
}

export function row(m: EmbeddingMatrix, i: number): Float32Array {
  return m.data.subarray(i * m.dim, (i + 1) * m.dim);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
  return s;
}

/** SPEC's distance on L2-normalised embeddings: 1 − a·b (0 identical, 1 orthogonal, 2 opposite). */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return 1 - dot(a, b);
}

export function normalize(v: ArrayLike<number>): Float32Array {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k]! * v[k]!;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  const out = new Float32Array(v.length);
  for (let k = 0; k < v.length; k++) out[k] = v[k]! * inv;
  return out;
}

/** Identity centroid: the mean of the members, re-normalised to unit length (SPEC "identity centroid"). */
export function centroid(vectors: readonly ArrayLike<number>[]): Float32Array {
  const first = vectors[0];
  if (!first) throw new Error('centroid: no vectors');
  const sum = new Float64Array(first.length);
  for (const v of vectors) {
    if (v.length !== sum.length) throw new Error(`centroid: vectors of ${v.length} and ${sum.length} dimensions`);
    for (let k = 0; k < sum.length; k++) sum[k]! += v[k]!;
  }
  return normalize(sum);
}
