import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32 } from './prng';
import { jsDotKernel, pairsAtLeastJs, type EdgeList } from './threshold-graph';
import { normalize, packEmbeddings } from './vectors';
import { candidatePairs } from './candidates';
import { buildIvf, cutProbes, ivfPairs, scoresPair } from './ivf-pairs';
import { nearestCentroids, sphericalKMeans } from './kmeans';

const keys = (e: EdgeList): string[] => Array.from({ length: e.length }, (_, k) => `${e.a[k]}-${e.b[k]}`);

/** 40 tight groups of 2–30 points in 32-d, plus scattered points: pairs within a group are within 0.55. */
function groups(seed: number) {
  const r = mulberry32(seed);
  const dim = 32;
  const vectors: Float32Array[] = [];
  for (let g = 0; g < 40; g++) {
    const c = Array.from({ length: dim }, () => gaussian(r));
    const size = 2 + Math.floor(r() * 29);
    for (let k = 0; k < size; k++) vectors.push(normalize(c.map((x) => x + 0.35 * gaussian(r))));
  }
  for (let k = 0; k < 100; k++) vectors.push(normalize(Array.from({ length: dim }, () => gaussian(r))));
  return packEmbeddings(vectors);
}

describe('sphericalKMeans and nearestCentroids', () => {
  it('finds two obvious directions and ranks centroids by similarity', async () => {
    const m = packEmbeddings([
      Float32Array.of(1, 0), normalize([1, 0.1]), normalize([1, -0.1]),
      Float32Array.of(0, 1), normalize([0.1, 1]), normalize([-0.1, 1]),
    ]);
    const c = await sphericalKMeans(m, { k: 2, seed: 3 }, jsDotKernel);
    const near = await nearestCentroids(m, c, 2, jsDotKernel);
    // Rows 0–2 share a first centroid, rows 3–5 the other; each row's second choice is the other centroid.
    expect(new Set([near[0], near[2], near[4]]).size).toBe(1);
    expect(new Set([near[6], near[8], near[10]]).size).toBe(1);
    expect(near[0]).not.toBe(near[6]);
    expect(near[1]).toBe(near[6]);
  });
});

describe('cutProbes', () => {
  it('keeps minProbes, then lists above the floor or within the margin of the best', () => {
    // Face 0 stands out for its first list (0.9): beyond 2 probes only lists ≥ 0.5 stay. Face 1 has no list that
    // stands out (0.40, 0.39, …): lists within 0.03 of its best (≥ 0.37) stay, not 0.36.
    const probe = Int32Array.of(0, 1, 2, 3, 4, /**/ 5, 6, 7, 8, 9);
    const sims = Float32Array.of(0.9, 0.6, 0.55, 0.49, 0.3, /**/ 0.4, 0.39, 0.38, 0.375, 0.36);
    cutProbes(probe, sims, 5, { minProbes: 2, floor: 0.5, margin: 0.03 });
    expect(Array.from(probe)).toEqual([0, 1, 2, -1, -1, /**/ 5, 6, 7, 8, -1]);
  });
});

describe('ivfPairs', () => {
  it('returns only pairs at or above the bound, each once with a < b', async () => {
    const m = groups(1);
    const index = await buildIvf(m, jsDotKernel, { lists: 12, seed: 2 });
    const e = await ivfPairs(m, index, 0.45, jsDotKernel);
    const k = keys(e);
    expect(new Set(k).size).toBe(k.length);
    for (let t = 0; t < e.length; t++) expect(e.a[t]!).toBeLessThan(e.b[t]!);
    const exact = new Set(keys(pairsAtLeastJs(m, 0.45)));
    for (const p of k) expect(exact.has(p)).toBe(true);
  });

  it('finds every exact pair the index scores, and with probes = lists all of them', async () => {
    const m = groups(2);
    const exact = pairsAtLeastJs(m, 0.45);
    expect(exact.length).toBeGreaterThan(1000);
    const index = await buildIvf(m, jsDotKernel, { lists: 12, probes: 12, minProbes: 12, seed: 2 });
    expect(new Set(keys(await ivfPairs(m, index, 0.45, jsDotKernel)))).toEqual(new Set(keys(exact)));
    const few = await buildIvf(m, jsDotKernel, { lists: 12, probes: 2, minProbes: 2, seed: 2 });
    const found = new Set(keys(await ivfPairs(m, few, 0.45, jsDotKernel)));
    for (let t = 0; t < exact.length; t++) {
      expect(found.has(`${exact.a[t]}-${exact.b[t]}`)).toBe(scoresPair(few, exact.a[t]!, exact.b[t]!));
    }
  });

  it('bounds the edges per face, keeping each face’s most similar neighbour', async () => {
    const m = groups(3);
    const index = await buildIvf(m, jsDotKernel, { lists: 8, probes: 8, minProbes: 8, seed: 1 });
    const all = await ivfPairs(m, index, 0.45, jsDotKernel);
    const bounded = await ivfPairs(m, index, 0.45, jsDotKernel, { maxEdgesPerFace: 3 });
    expect(bounded.length).toBeLessThanOrEqual((3 + index.probes) * m.n);
    expect(bounded.length).toBeLessThan(all.length / 2);
    const kept = new Set(keys(bounded));
    for (const p of kept) expect(new Set(keys(all)).has(p)).toBe(true);
    const dot = (a: number, b: number): number => {
      let s = 0;
      for (let k = 0; k < m.dim; k++) s += m.data[a * m.dim + k]! * m.data[b * m.dim + k]!;
      return s;
    };
    const best = new Map<number, [number, number]>();
    for (let t = 0; t < all.length; t++) {
      for (const [a, b] of [[all.a[t]!, all.b[t]!], [all.b[t]!, all.a[t]!]] as const) {
        const d = dot(a, b);
        if (!best.has(a) || d > best.get(a)![1]) best.set(a, [b, d]);
      }
    }
    for (const [a, [b]] of best) expect(kept.has(`${Math.min(a, b)}-${Math.max(a, b)}`)).toBe(true);
    // And an edge into every list where it had a candidate: nearby blocks stay joined.
    const lists = (a: number, e: EdgeList): Set<number> => {
      const out = new Set<number>();
      for (let t = 0; t < e.length; t++) {
        if (e.a[t] === a) out.add(index.home[e.b[t]!]!);
        if (e.b[t] === a) out.add(index.home[e.a[t]!]!);
      }
      return out;
    };
    for (const a of [0, 17, 200, m.n - 1]) {
      const probed = new Set(Array.from(index.probe.subarray(a * index.probes, (a + 1) * index.probes)));
      const want = [...lists(a, all)].filter((l) => probed.has(l));
      const got = lists(a, bounded);
      for (const l of want) expect(got.has(l)).toBe(true);
    }
  });
});

describe('candidatePairs', () => {
  it('scores all pairs below exactBelow, and goes through the index above it', async () => {
    const m = groups(4);
    const seen: (string | null)[] = [];
    const onCandidates = (c: { index: unknown }): void => void seen.push(c.index ? 'index' : null);
    const exact = await candidatePairs(m, 0.55, jsDotKernel, { onCandidates });
    const viaIndex = await candidatePairs(m, 0.55, jsDotKernel, { exactBelow: 0, lists: 4, probes: 4, minProbes: 4, maxEdgesPerFace: 0, onCandidates });
    expect(seen).toEqual([null, 'index']);
    expect(new Set(keys(viaIndex))).toEqual(new Set(keys(exact)));
  });
});
