import { describe, expect, it } from 'vitest';
import { averageLinkage, clusterByAverageLinkage } from './linkage';
import { EdgeList, jsDotKernel, pairsAtLeastJs } from './threshold-graph';
import { normalize, packEmbeddings, type EmbeddingMatrix } from './vectors';
import { gaussian, mulberry32 as rng } from './prng';

/** Unit vector at `deg` degrees in the plane: cosine distance between two of them is 1 − cos(Δ). */
const at = (deg: number): Float32Array => Float32Array.of(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180));

function allPairs(n: number): EdgeList {
  const e = new EdgeList();
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) e.push(i, j);
  return e;
}

/** The textbook O(n³) algorithm: merge the closest allowed pair (mean of pairwise distances) while ≤ t. */
function referenceLinkage(m: EmbeddingMatrix, sources: number[], t: number): number[][] {
  const d = (i: number, j: number): number => {
    let s = 0;
    for (let k = 0; k < m.dim; k++) s += m.data[i * m.dim + k]! * m.data[j * m.dim + k]!;
    return 1 - s;
  };
  let clusters = Array.from({ length: m.n }, (_, i) => [i]);
  for (;;) {
    let best: [number, number] | undefined;
    let bestD = Infinity;
    for (let p = 0; p < clusters.length; p++) {
      for (let q = p + 1; q < clusters.length; q++) {
        const A = clusters[p]!, B = clusters[q]!;
        if (A.some((i) => B.some((j) => sources[i] === sources[j]))) continue;
        let s = 0;
        for (const i of A) for (const j of B) s += d(i, j);
        const avg = s / (A.length * B.length);
        if (avg < bestD) {
          bestD = avg;
          best = [p, q];
        }
      }
    }
    if (!best || bestD > t) break;
    const [p, q] = best;
    const merged = [...clusters[p]!, ...clusters[q]!].sort((a, b) => a - b);
    clusters = clusters.filter((_, k) => k !== p && k !== q);
    clusters.push(merged);
  }
  return clusters.sort((p, q) => q.length - p.length || p[0]! - q[0]!);
}

describe('averageLinkage', () => {
  it('merges the closest pair first and uses the average, not the minimum, distance', () => {
    // Points at 0°, 10°, 30°, 80°: d(0,10)=0.0152, d(10,30)=0.0603, d(0,30)=0.134, d(30,80)=0.357, d(0,80)=0.826.
    const m = packEmbeddings([at(0), at(10), at(30), at(80)]);
    const src = [0, 1, 2, 3];
    // t = 0.1: {0,10} merges (0.0152); then avg({0,10},{30}) = (0.134+0.0603)/2 = 0.097 ≤ 0.1 merges; 80° stays out.
    expect(averageLinkage({ m, sources: src, threshold: 0.1, edges: allPairs(4) })).toEqual([[0, 1, 2], [3]]);
    // t = 0.09: 0.097 > 0.09 although the closest member pair (10°,30°) is 0.06: {0,10} and {30} stay apart.
    expect(averageLinkage({ m, sources: src, threshold: 0.09, edges: allPairs(4) })).toEqual([[0, 1], [2], [3]]);
    // avg({0,10,30},{80}) = (0.826+0.658+0.357)/3 = 0.614: merges only once t ≥ 0.614.
    expect(averageLinkage({ m, sources: src, threshold: 0.62, edges: allPairs(4) })).toEqual([[0, 1, 2, 3]]);
    expect(averageLinkage({ m, sources: src, threshold: 0.6, edges: allPairs(4) })).toEqual([[0, 1, 2], [3]]);
  });

  it('respects the threshold inclusively and leaves far points alone', () => {
    const m = packEmbeddings([at(0), at(60), at(180)]);
    // d(0°,60°) = 1 − cos 60° = 0.5 exactly (up to float32 rounding of the inputs).
    expect(averageLinkage({ m, sources: [0, 1, 2], threshold: 0.5 + 1e-6, edges: allPairs(3) })).toEqual([[0, 1], [2]]);
    expect(averageLinkage({ m, sources: [0, 1, 2], threshold: 0.5 - 1e-6, edges: allPairs(3) })).toEqual([[0], [1], [2]]);
  });

  it('never puts two faces of one source file into one cluster', () => {
    // 0° and 5° come from the same photo: each joins the nearest other face, never each other.
    const m = packEmbeddings([at(0), at(5), at(2), at(80)]);
    const clusters = averageLinkage({ m, sources: [7, 7, 8, 9], threshold: 0.2, edges: allPairs(4) });
    expect(clusters).toEqual([[0, 2], [1], [3]]);
    // The constraint holds for merged clusters too: {0,2} may not absorb 1 through 2's source either.
    const m2 = packEmbeddings([at(0), at(1), at(2), at(3)]);
    const c2 = averageLinkage({ m: m2, sources: [1, 2, 1, 2], threshold: 0.5, edges: allPairs(4) });
    for (const c of c2) expect(new Set(c.map((i) => [1, 2, 1, 2][i])).size).toBe(c.length);
    expect(c2).toHaveLength(2);
  });

  it('handles no rows, one row and no edges', () => {
    expect(averageLinkage({ m: packEmbeddings([], 2), sources: [], threshold: 0.5, edges: new EdgeList() })).toEqual([]);
    expect(averageLinkage({ m: packEmbeddings([at(0)]), sources: [0], threshold: 0.5, edges: new EdgeList() })).toEqual([[0]]);
    const m = packEmbeddings([at(0), at(1)]);
    expect(averageLinkage({ m, sources: [0, 1], threshold: 0.5, edges: new EdgeList() })).toEqual([[0], [1]]);
  });

  it('gives the same clusters as the brute-force reference on random inputs', async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      const dim = 4 + Math.floor(r() * 12);
      const n = 5 + Math.floor(r() * 45);
      const centres = Array.from({ length: 1 + Math.floor(r() * 6) }, () =>
        normalize(Array.from({ length: dim }, () => gaussian(r))),
      );
      const noise = 0.1 + r() * 0.6;
      const vectors = Array.from({ length: n }, () => {
        const c = centres[Math.floor(r() * centres.length)]!;
        return normalize(Array.from(c, (x) => x + (noise * gaussian(r)) / Math.sqrt(dim)));
      });
      const sources = Array.from({ length: n }, () => Math.floor(r() * n * 0.8));
      const t = 0.1 + r() * 0.8;
      const m = packEmbeddings(vectors);
      const expected = referenceLinkage(m, sources, t);
      expect(await clusterByAverageLinkage(m, sources, t, jsDotKernel), `seed ${seed}`).toEqual(expected);
    }
  });
});

describe('pairsAtLeastJs', () => {
  it('finds exactly the pairs at or above the bound, across block borders', () => {
    const r = rng(3);
    const vectors = Array.from({ length: 300 }, () => normalize(Array.from({ length: 7 }, () => gaussian(r))));
    const m = packEmbeddings(vectors);
    const edges = pairsAtLeastJs(m, 0.5);
    const got = new Set<string>();
    for (let k = 0; k < edges.length; k++) got.add(`${edges.a[k]}-${edges.b[k]}`);
    const want = new Set<string>();
    for (let i = 0; i < 300; i++) {
      for (let j = i + 1; j < 300; j++) {
        let s = 0;
        for (let k = 0; k < 7; k++) s += vectors[i]![k]! * vectors[j]![k]!;
        if (s >= 0.5) want.add(`${i}-${j}`);
      }
    }
    expect(got).toEqual(want);
  });
});
