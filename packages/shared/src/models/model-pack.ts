// Locates and verifies the ONNX model pack; its id is stamped on every record so embeddings never mix.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import manifest from './model-pack.json' with { type: 'json' };

export interface ModelPack {
  /** `<name>-<first 16 hex of sha256 over the file hashes>`, e.g. `faceplugin-fr-1a2b…`. */
  id: string;
  name: string;
  dir: string;
  detect: string;
  landmark: string;
  feature: string;
  /** The same three models with a symbolic batch dim (made at set-up, see scripts/onnx-batch.mjs); absent if not made. */
  batch: { detect: string; landmark: string; feature: string } | undefined;
}

export class ModelPackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelPackError';
  }
}

export const MODEL_FILES = manifest.files as Record<string, string>;
export const BATCH_MODEL_FILES = manifest.batchFiles as Record<string, { from: string; sha256: string }>;

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Batch copies are optional (older set-ups lack them), but one that exists and is altered is an error. */
function batchCopies(dir: string, verify: boolean): ModelPack['batch'] {
  for (const [file, { sha256 }] of Object.entries(BATCH_MODEL_FILES)) {
    const path = join(dir, file);
    if (!existsSync(path)) return undefined;
    if (verify && sha256Of(path) !== sha256) {
      throw new ModelPackError(`model file ${path} is not the batch copy expected (sha256 ${sha256}): run \`npm run models\``);
    }
  }
  return {
    detect: join(dir, 'fr_detect.batch.onnx'),
    landmark: join(dir, 'fr_landmark.batch.onnx'),
    feature: join(dir, 'fr_feature.batch.onnx'),
  };
}

export function modelPackId(): string {
  const digest = createHash('sha256');
  for (const [file, hash] of Object.entries(MODEL_FILES).sort(([a], [b]) => a.localeCompare(b))) {
    digest.update(`${file}:${hash}\n`);
  }
  return `${manifest.name}-${digest.digest('hex').slice(0, 16)}`;
}

/** Verifies every model file's sha256; a missing or altered file is a start-up error naming it. */
export function loadModelPack(dir: string, verify = true): ModelPack {
  for (const [file, expected] of Object.entries(MODEL_FILES)) {
    const path = join(dir, file);
    if (!existsSync(path)) {
      throw new ModelPackError(`model file ${path} is missing: run \`npm run models\` or set MODEL_DIR`);
    }
    if (verify) {
      const actual = sha256Of(path);
      if (actual !== expected) {
        throw new ModelPackError(`model file ${path} has sha256 ${actual}, expected ${expected}: it was altered`);
      }
    }
  }
  return {
    id: modelPackId(),
    name: manifest.name,
    dir,
    detect: join(dir, 'fr_detect.onnx'),
    landmark: join(dir, 'fr_landmark.onnx'),
    feature: join(dir, 'fr_feature.onnx'),
    batch: batchCopies(dir, verify),
  };
}
