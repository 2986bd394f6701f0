import { afterAll, describe, expect, it } from 'vitest';
import { createOrtDotKernel } from './ort-dot-kernel';
import { pairsAtLeastJs, type EdgeList } from './threshold-graph';
import { normalize, packEmbeddings } from './vectors';
import { mulberry32 as rng } from './prng';

const kernel = createOrtDotKernel({ threads: 2 });
afterAll(() => kernel.close());

const pairs = (e: EdgeList): Set<number> => {
  const s = new Set<number>();
  for (let k = 0; k < e.length; k++) s.add(e.a[k]! * 100_000 + e.b[k]!);
  return s;
};

describe('onnxruntime GEMM kernel', () => {
  it('finds the same pairs as the exact JS kernel, across tile borders', async () => {
    // 2,500 rows span two 2,048-row tiles; clustered data gives many pairs near any bound.
    const r = rng(11);
    const dim = 64;
    const centres = Array.from({ length: 60 }, () => normalize(Array.from({ length: dim }, () => r() - 0.5)));
    const vectors = Array.from({ length: 2500 }, () => {
      const c = centres[Math.floor(r() * centres.length)]!;
      return normalize(Array.from(c, (x) => x + (r() - 0.5) * 0.15));
    });
    const m = packEmbeddings(vectors);
    const js = pairs(pairsAtLeastJs(m, 0.45));
    const ort = pairs(await kernel.pairsAtLeast(m, 0.45));
    expect(js.size).toBeGreaterThan(10_000);
    // float32 accumulation may flip pairs within ~1e-6 of the bound; there are none here, so the sets are equal.
    const onlyJs = [...js].filter((p) => !ort.has(p));
    const onlyOrt = [...ort].filter((p) => !js.has(p));
    expect(onlyJs.length + onlyOrt.length).toBeLessThanOrEqual(2);
  });

  it('handles fewer than two rows', async () => {
    expect((await kernel.pairsAtLeast(packEmbeddings([Float32Array.of(1, 0)]), 0)).length).toBe(0);
  });
});
