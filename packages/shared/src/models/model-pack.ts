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
}

export class ModelPackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelPackError';
  }
}

export const MODEL_FILES = manifest.files as Record<string, string>;

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
      const actual = createHash('sha256').update(readFileSync(path)).digest('hex');
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
  };
}
