import { describe, expect, it } from 'vitest';
import { averageLinkage } from './linkage';
import { joinParts, partInputs, splitGraph } from './parts';
import { gaussian, mulberry32 } from './prng';
import { EdgeList, pairsAtLeastJs } from './threshold-graph';
import { normalize, packEmbeddings } from './vectors';

describe('splitGraph', () => {
  it('deals whole components onto balanced parts and leaves isolated rows out', () => {
    // Components {0,1,2} {3,4} {5,6}; row 7 has no edge.
    const e = new EdgeList();
    for (const [a, b] of [[0, 1], [1, 2], [3, 4], [5, 6]]) e.push(a!, b!);
    const s = splitGraph(8, e, 2);
    expect(s.parts.map((p) => [...p.rows])).toEqual([[0, 1, 2], [3, 4, 5, 6]]);
    expect([...s.singletons]).toEqual([7]);
    expect(s.parts[1]!.edges.length).toBe(2);
    expect([...s.parts[1]!.edges.a.subarray(0, 2)]).toEqual([0, 2]);
  });
});

describe('split, cluster each part, join', () => {
  it('gives exactly the clusters of one run over the whole graph', () => {
    for (const seed of [1, 2, 3]) {
      const r = mulberry32(seed);
      const dim = 16;
      const vectors: Float32Array[] = [];
      for (let g = 0; g < 30; g++) {
        const c = Array.from({ length: dim }, () => gaussian(r));
        const size = 1 + Math.floor(r() * 12);
        for (let k = 0; k < size; k++) vectors.push(normalize(c.map((x) => x + 0.45 * gaussian(r))));
      }
      const m = packEmbeddings(vectors);
      const sources = Array.from({ length: m.n }, (_, i) => (r() < 0.1 ? Math.floor(i / 3) : m.n + i));
      const edges = pairsAtLeastJs(m, 1 - 0.55);
      const whole = averageLinkage({ m, sources, threshold: 0.55, edges });
      for (const parts of [1, 3, 7]) {
        const split = splitGraph(m.n, edges, parts);
        const clusters = split.parts.map((p) => averageLinkage({ ...partInputs(m, sources, p), threshold: 0.55, edges: p.edges }));
        expect(joinParts(split, clusters), `seed ${seed}, ${parts} parts`).toEqual(whole);
      }
    }
  });
});
