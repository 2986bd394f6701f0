// Face embedding with fr_feature.onnx: align the 5 points onto the ArcFace template, embed, L2-normalise.
import { ARCFACE_SIZE, arcfaceTransform, warpAffineAntialiased } from './align';
import type { OnnxModel } from './onnx-model';
import type { Point, RgbImage } from './types';

export const EMBEDDING_SIZE = 512;

/** Item dims of the embedding input, batch dim first. */
export const FEATURE_INPUT_DIMS = [1, 3, ARCFACE_SIZE, ARCFACE_SIZE] as const;

/** 112×112 RGB aligned face (black outside the image, as OpenCV's warpAffine leaves it). */
export function alignFace(img: RgbImage, kps: readonly Point[]): Uint8Array {
  return warpAffineAntialiased(img, arcfaceTransform(kps), ARCFACE_SIZE, ARCFACE_SIZE);
}

export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / n;
  return v;
}

/** The aligned face as the model's planar (v − 127) / 128 input. */
function featureInput(img: RgbImage, kps: readonly Point[]): Float32Array {
  const face = alignFace(img, kps);
  const plane = ARCFACE_SIZE * ARCFACE_SIZE;
  const input = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    input[p] = (face[p * 3]! - 127) / 128;
    input[plane + p] = (face[p * 3 + 1]! - 127) / 128;
    input[2 * plane + p] = (face[p * 3 + 2]! - 127) / 128;
  }
  return input;
}

export class FaceEmbedder {
  constructor(private readonly model: OnnxModel) {}

  /** One embedding per face (its 5 points in the coordinates of its image); the aligned crops go through the model together. */
  async embed(faces: readonly { img: RgbImage; kps: readonly Point[] }[]): Promise<Float32Array[]> {
    const outs = await this.model.runMany(faces.length, (k) => featureInput(faces[k]!.img, faces[k]!.kps));
    return outs.map((out) => {
      const v = out.output;
      if (!v || v.length !== EMBEDDING_SIZE) throw new Error(`embed: unexpected output (want ${EMBEDDING_SIZE} values)`);
      return l2normalize(Float32Array.from(v));
    });
  }
}
