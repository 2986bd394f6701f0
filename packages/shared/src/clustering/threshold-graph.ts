// The threshold graph of discovery: every pair of faces within a cosine distance, found by blocked dot products.
import type { EmbeddingMatrix } from './vectors';

/** Undirected pairs (a[k], b[k]) with a[k] < b[k], in growable typed arrays (8 bytes a pair, no per-pair objects). */
export class EdgeList {
  a: Uint32Array;
  b: Uint32Array;
  length = 0;

  constructor(capacity = 1024) {
    this.a = new Uint32Array(capacity);
    this.b = new Uint32Array(capacity);
  }

  push(i: number, j: number): void {
    if (this.length === this.a.length) this.grow();
    this.a[this.length] = i < j ? i : j;
    this.b[this.length] = i < j ? j : i;
    this.length++;
  }

  private grow(): void {
    const cap = this.a.length * 2;
    const a = new Uint32Array(cap);
    const b = new Uint32Array(cap);
    a.set(this.a);
    b.set(this.b);
    this.a = a;
    this.b = b;
  }
}

/** Finds every pair i < j with rows[i]·rows[j] ≥ minDot. Implementations may return a few extra pairs near the bound. */
export interface DotKernel {
  readonly name: string;
  pairsAtLeast(m: EmbeddingMatrix, minDot: number): Promise<EdgeList>;
}

/** Rows per block: two blocks of 128×512 float32 (512 kB) stay in L2 while every pair between them is scored. */
const BLOCK = 128;

/** Pure-JS kernel, exact in double precision; ~1 ns per multiply-add, so it suits up to a few thousand faces. */
export function pairsAtLeastJs(m: EmbeddingMatrix, minDot: number): EdgeList {
  const { data, n, dim } = m;
  const edges = new EdgeList();
  const d4 = dim - (dim % 4);
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    const i1 = Math.min(n, i0 + BLOCK);
    for (let j0 = i0; j0 < n; j0 += BLOCK) {
      const j1 = Math.min(n, j0 + BLOCK);
      for (let i = i0; i < i1; i++) {
        const oi = i * dim;
        for (let j = Math.max(j0, i + 1); j < j1; j++) {
          const oj = j * dim;
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          let k = 0;
          for (; k < d4; k += 4) {
            s0 += data[oi + k]! * data[oj + k]!;
            s1 += data[oi + k + 1]! * data[oj + k + 1]!;
            s2 += data[oi + k + 2]! * data[oj + k + 2]!;
            s3 += data[oi + k + 3]! * data[oj + k + 3]!;
          }
          for (; k < dim; k++) s0 += data[oi + k]! * data[oj + k]!;
          if (s0 + s1 + s2 + s3 >= minDot) edges.push(i, j);
        }
      }
    }
  }
  return edges;
}

export const jsDotKernel: DotKernel = {
  name: 'js',
  pairsAtLeast: async (m, minDot) => pairsAtLeastJs(m, minDot),
};
