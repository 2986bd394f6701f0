// Shared set-up of the engine tests: a temp copy of the face fixtures and one in-process FaceEngine.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaceEngine } from '../../packages/shared/src/engine/engine';
import type { Face, FileOk, FileResult } from '../../packages/shared/src/engine/types';
import { REPO_ROOT } from '../../packages/shared/src/config';
import { loadModelPack } from '../../packages/shared/src/models/model-pack';
import { FIXTURES_DIR } from '../support/fixtures';

export const FIXTURES = FIXTURES_DIR;
export const MODEL_DIR = join(REPO_ROOT, 'models');

/** A private copy of the fixtures (they are read-only and shared); remove it with the returned cleanup. */
export async function copyFixtures(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'facesets-engine-'));
  await cp(FIXTURES, join(dir, 'faces'), { recursive: true });
  return { dir: join(dir, 'faces'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function createEngine(batchSize = 1): Promise<FaceEngine> {
  return FaceEngine.create({ pack: loadModelPack(MODEL_DIR), intraOpThreads: 1, executionProvider: 'cpu', maxImagePixels: 100_000_000, batchSize });
}

export function expectOk(r: FileResult): FileOk {
  if (!r.ok) throw new Error(`expected ${r.path} to embed, got error: ${r.error}`);
  return r;
}

/** The most confident face (faces come sorted by detScore). */
export function bestFace(r: FileResult): Face {
  const face = expectOk(r).faces[0];
  if (!face) throw new Error(`no face found in ${r.path}`);
  return face;
}

export function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return 1 - dot;
}
