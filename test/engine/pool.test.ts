// EnginePool: worker threads under vitest, same results as the in-process engine, dead workers replaced,
// bad model packs refused at start-up.
import { copyFile, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnginePool } from '../../packages/shared/src/engine/pool';
import { modelPackId } from '../../packages/shared/src/models/model-pack';
import { bestFace, copyFixtures, cosineDistance, createEngine, expectOk, MODEL_DIR } from './helpers';

let dir: string;
let cleanup: () => Promise<void>;
let pool: EnginePool;

const poolOptions = { modelDir: MODEL_DIR, workers: 2, intraOpThreads: 1, executionProvider: 'cpu' as const, maxImagePixels: 100_000_000 };

beforeAll(async () => {
  ({ dir, cleanup } = await copyFixtures());
  pool = await EnginePool.create(poolOptions);
});

afterAll(async () => {
  await pool?.close();
  await cleanup?.();
});

describe('EnginePool', () => {
  it('runs files on worker threads with the same results as the engine in-process', async () => {
    expect(pool.modelPackId).toBe(modelPackId());
    const files = ['people/obama/obama4.jpg', 'groups/bbt3.jpg', 'people/amy/amy2.png', 'misc/white.png'].map((f) => join(dir, f));
    const results = await Promise.all(files.map((f) => pool.process(f, { detThreshold: 0.5 })));
    const engine = await createEngine();
    try {
      for (const [i, r] of results.entries()) {
        const ok = expectOk(r);
        expect(ok.path).toBe(files[i]);
        const local = expectOk(await engine.processFile(files[i]!));
        expect(ok.faces.length).toBe(local.faces.length);
        for (const [j, f] of ok.faces.entries()) {
          expect(f.embedding).toBeInstanceOf(Float32Array);
          expect(cosineDistance(f.embedding, local.faces[j]!.embedding)).toBeLessThan(1e-5);
        }
      }
    } finally {
      await engine.close();
    }
  });

  it('answers a file whose worker died with an error result, and keeps working', async () => {
    const file = join(dir, 'groups/obama_and_biden.jpg');
    const pending = pool.process(file);
    // Reach into the pool to kill a busy worker: there is no public way to crash one, by design.
    const slots = (pool as unknown as { slots: Set<{ worker: Worker; job?: { path: string } }> }).slots;
    const busy = [...slots].find((s) => s.job?.path === file);
    expect(busy).toBeDefined();
    await busy!.worker.terminate();
    const r = await pending;
    expect(r).toMatchObject({ ok: false, path: file, error: expect.stringMatching(/engine worker died/) });
    const again = await pool.process(join(dir, 'people/obama/obama4.jpg'));
    expect(bestFace(again).detScore).toBeGreaterThan(0.9);
    await expect.poll(() => slots.size, { timeout: 30_000 }).toBe(2);
  });

  it('refuses to start with a missing or altered model file, naming it', async () => {
    const models = await mkdtemp(join(tmpdir(), 'facesets-models-'));
    try {
      await cp(MODEL_DIR, models, { recursive: true });
      await rm(join(models, 'fr_landmark.onnx'));
      await expect(EnginePool.create({ ...poolOptions, modelDir: models })).rejects.toThrow(/fr_landmark\.onnx is missing/);
      await copyFile(join(MODEL_DIR, 'fr_landmark.onnx'), join(models, 'fr_landmark.onnx'));
      await writeFile(join(models, 'fr_feature.onnx'), 'not a model');
      await expect(EnginePool.create({ ...poolOptions, modelDir: models })).rejects.toThrow(/fr_feature\.onnx has sha256 .* it was altered/);
      // Unverified, the broken file still fails, in the workers, as a start-up error that names it.
      await expect(EnginePool.create({ ...poolOptions, modelDir: models, verifyModels: false })).rejects.toThrow(/fr_feature\.onnx/);
    } finally {
      await rm(models, { recursive: true, force: true });
    }
  });

  it('resolves queued files as errors on close and refuses new ones', async () => {
    const local = await EnginePool.create({ ...poolOptions, workers: 1 });
    const files = Array.from({ length: 6 }, () => join(dir, 'people/amy/amy3.png'));
    const pending = files.map((f) => local.process(f));
    await local.close();
    const results = await Promise.all(pending);
    expect(results[0]!.ok).toBe(true);
    expect(results.some((r) => !r.ok && /pool closed/.test(r.error))).toBe(true);
    await expect(local.process(files[0]!)).rejects.toThrow(/closed/);
  });
});
