// Batch-symbolic model copies: the rewrite is safe for the pack's graphs, reproducible, and batched runs give the
// per-item answers on the fixtures (multi-face group photos, tiled pyramids).
import { readFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchBlockers, describe as describeModel, withSymbolicBatch } from '../../scripts/onnx-batch.mjs';
import { gemmModel } from '../../packages/shared/src/clustering/ort-dot-kernel';
import type { FaceEngine } from '../../packages/shared/src/engine/engine';
import { EnginePool } from '../../packages/shared/src/engine/pool';
import { BATCH_MODEL_FILES } from '../../packages/shared/src/models/model-pack';
import { copyFixtures, cosineDistance, createEngine, expectOk, MODEL_DIR } from './helpers';

describe('onnx batch rewrite', () => {
  it('finds nothing pinning the batch in the pack and reproduces the checksummed copies', async () => {
    for (const [copy, { from, sha256 }] of Object.entries(BATCH_MODEL_FILES)) {
      const original = await readFile(join(MODEL_DIR, from));
      expect(batchBlockers(original)).toEqual([]);
      const rewritten = withSymbolicBatch(original);
      expect(createHash('sha256').update(rewritten).digest('hex'), copy).toBe(sha256);
      const io = describeModel(rewritten);
      for (const v of [...io.inputs, ...io.outputs]) expect(v.dims?.[0], `${copy} ${v.name}`).toBe('N');
      // Only the dims change: one byte per dim_value 1 → dim_param "N", one length byte at most per enclosing message.
      expect(rewritten.length - original.length).toBeLessThan(8);
    }
  });

  it("turns the feature model's Reshape to [1, -1] into [0, -1] (copy the batch dim)", async () => {
    const feature = await readFile(join(MODEL_DIR, 'fr_feature.onnx'));
    const shapeOf = (model: Uint8Array): number[] => {
      const g = describeModel(model);
      const reshape = g.nodes.find((n) => n.op === 'Reshape');
      return (g.constants.get(reshape?.inputs[1] ?? '') ?? []).map(Number);
    };
    expect(shapeOf(feature)).toEqual([1, -1]);
    expect(shapeOf(withSymbolicBatch(feature))).toEqual([0, -1]);
  });

  it('refuses a graph whose batch is not a leading 1 on one input, naming why', () => {
    const gemm = Buffer.from(gemmModel(4));
    expect(batchBlockers(gemm)).toEqual(['expected one graph input, found 2', 'A: leading dim is m, not 1', 'B: leading dim is n, not 1', 'C: leading dim is m, not 1']);
    expect(() => withSymbolicBatch(gemm)).toThrow(/batch dim cannot be made symbolic: expected one graph input/);
  });
});

describe('batched engine runs', () => {
  let single: FaceEngine, batched: FaceEngine;
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, cleanup } = await copyFixtures());
    [single, batched] = await Promise.all([createEngine(1), createEngine(8)]);
  });

  afterAll(async () => {
    await Promise.all([single?.close(), batched?.close()]);
    await cleanup?.();
  });

  it('uses the batch copies when asked for a batch size above 1', () => {
    expect(single.info).toMatchObject({ executionProvider: 'cpu', batchSize: 1 });
    expect(batched.info).toMatchObject({ executionProvider: 'cpu', batchSize: 8 });
    expect(batched.info.note).toBeUndefined();
  });

  it('finds the same faces with the same embeddings as one item per run (group photos)', async () => {
    // obama_and_biden.jpg plans 1 + 9 detector tiles (runs of 8 + 1 here), bbt1.jpg 1 + 4, two_people.jpg 1 + 2.
    const groups = (await readdir(join(dir, 'groups'))).sort();
    let faces = 0;
    for (const name of groups) {
      const a = expectOk(await single.processFile(join(dir, 'groups', name)));
      const b = expectOk(await batched.processFile(join(dir, 'groups', name)));
      expect(b.faces.length, name).toBe(a.faces.length);
      for (const [i, fa] of a.faces.entries()) {
        const fb = b.faces[i]!;
        expect(fb.box, `${name}#${i}`).toEqual(fa.box);
        expect(fb.detScore).toBeCloseTo(fa.detScore, 6);
        expect(cosineDistance(fa.embedding, fb.embedding)).toBeLessThan(1e-6);
      }
      faces += a.faces.length;
    }
    expect(faces).toBeGreaterThan(20);
  });
});

describe('workers sharing one inference server (the CUDA layout, here on CPU)', () => {
  it('gives every file the faces and embeddings the engine gives in-process, batching across files', async () => {
    const { dir, cleanup } = await copyFixtures();
    const engine = await createEngine(1);
    const pool = await EnginePool.create({
      modelDir: MODEL_DIR,
      workers: 3,
      intraOpThreads: 1,
      executionProvider: 'cpu',
      maxImagePixels: 1e8,
      batchSize: 16,
      sharedSessions: true,
    });
    try {
      expect(pool.info).toMatchObject({ executionProvider: 'cpu', batchSize: 16, workers: 3, sessions: 'per device' });
      const files = [...(await readdir(join(dir, 'groups'))).map((f) => join(dir, 'groups', f)), join(dir, 'people/obama/obama4.jpg')];
      const remote = await Promise.all(files.map((f) => pool.process(f)));
      for (const [i, f] of files.entries()) {
        const a = expectOk(await engine.processFile(f));
        const b = expectOk(remote[i]!);
        expect(b.faces.map((x) => x.box), f).toEqual(a.faces.map((x) => x.box));
        for (const [k, fa] of a.faces.entries()) expect(cosineDistance(fa.embedding, b.faces[k]!.embedding)).toBeLessThan(1e-6);
      }
    } finally {
      await pool.close();
      await engine.close();
      await cleanup();
    }
  });
});
