// DotKernel on onnxruntime's SIMD GEMM: a one-node Gemm graph scores 2048×2048 face pairs per call, ~15× the JS loop.
import type { InferenceSession } from 'onnxruntime-node';
import { loadRuntime } from '../engine/runtime';
import { EdgeList, type DotKernel } from './threshold-graph';
import type { EmbeddingMatrix } from './vectors';

/** Rows per tile: a 2048² float32 score tile is 16 MB, big enough to keep GEMM efficient, small enough to scan. */
const TILE = 2048;

// Minimal protobuf writer: the graph is five fields deep, not worth a protobuf dependency.
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const key = (field: number, wire: number): number[] => varint(field * 8 + wire);
const bytes = (field: number, b: number[]): number[] => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string): number[] => bytes(field, [...Buffer.from(s, 'utf8')]);
const int = (field: number, v: number): number[] => [...key(field, 0), ...varint(v)];

/** ValueInfoProto of a 2-D float tensor; a string dim is symbolic. */
function floatMatrix(name: string, dims: (number | string)[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  const tensorType = [...int(1, 1 /* FLOAT */), ...bytes(2, shape)];
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))];
}

/** ModelProto of C = A · Bᵀ (Gemm, transB = 1), so B is row-major embeddings as stored: no transpose copies. */
export function gemmModel(dim: number): Uint8Array {
  const transB = [...str(1, 'transB'), ...int(3, 1), ...int(20, 2 /* INT */)];
  const node = [...str(1, 'A'), ...str(1, 'B'), ...str(2, 'C'), ...str(4, 'Gemm'), ...bytes(5, transB)];
  const graph = [
    ...bytes(1, node),
    ...str(2, 'pair_dots'),
    ...bytes(11, floatMatrix('A', ['m', dim])),
    ...bytes(11, floatMatrix('B', ['n', dim])),
    ...bytes(12, floatMatrix('C', ['m', 'n'])),
  ];
  const opset = [...str(1, ''), ...int(2, 13)];
  return Uint8Array.from([...int(1, 8 /* IR version */), ...bytes(8, opset), ...bytes(7, graph)]);
}

export interface OrtDotKernelOptions {
  /** Threads of the GEMM [2]. */
  threads?: number;
}

/**
 * GEMM-backed kernel. float32 accumulation differs from the JS kernel by ~1e-6, so callers ask for a bound a
 * little looser than their threshold and judge distances exactly afterwards (linkage does).
 */
export function createOrtDotKernel(opts: OrtDotKernelOptions = {}): DotKernel & { close(): Promise<void> } {
  // Loaded on first use, not at import: see engine/runtime.ts (one ONNX Runtime build per process).
  const { InferenceSession, Tensor } = loadRuntime('cpu').ort;
  const sessions = new Map<number, Promise<InferenceSession>>();
  const session = (dim: number): Promise<InferenceSession> => {
    let s = sessions.get(dim);
    if (!s) {
      s = InferenceSession.create(gemmModel(dim), {
        intraOpNumThreads: opts.threads ?? 2,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
      sessions.set(dim, s);
    }
    return s;
  };
  return {
    name: 'onnxruntime-gemm',
    async pairsAtLeast(m: EmbeddingMatrix, minDot: number): Promise<EdgeList> {
      const { data, n, dim } = m;
      const edges = new EdgeList();
      if (n < 2) return edges;
      const s = await session(dim);
      for (let i0 = 0; i0 < n; i0 += TILE) {
        const i1 = Math.min(n, i0 + TILE);
        const a = new Tensor('float32', data.subarray(i0 * dim, i1 * dim), [i1 - i0, dim]);
        for (let j0 = i0; j0 < n; j0 += TILE) {
          const j1 = Math.min(n, j0 + TILE);
          const b = new Tensor('float32', data.subarray(j0 * dim, j1 * dim), [j1 - j0, dim]);
          const out = await s.run({ A: a, B: b });
          const c = out.C!.data as Float32Array;
          const w = j1 - j0;
          for (let i = i0; i < i1; i++) {
            const base = (i - i0) * w - j0;
            // Diagonal tiles hold each pair twice and the self-pairs: keep j > i only.
            for (let j = Math.max(j0, i + 1); j < j1; j++) if (c[base + j]! >= minDot) edges.push(i, j);
          }
          out.C!.dispose?.();
        }
      }
      return edges;
    },
    async close() {
      for (const s of sessions.values()) await (await s).release();
      sessions.clear();
    },
  };
}
