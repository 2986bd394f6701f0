// Face embedding with fr_feature.onnx: align the 5 points onto the ArcFace template, embed, L2-normalise.
import type { InferenceSession } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import { ARCFACE_SIZE, arcfaceTransform, warpAffineAntialiased } from './align';
import type { Point, RgbImage } from './types';

export const EMBEDDING_SIZE = 512;

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

export class FaceEmbedder {
  private readonly input = new Float32Array(3 * ARCFACE_SIZE * ARCFACE_SIZE);

  constructor(private readonly session: InferenceSession) {}

  async embed(img: RgbImage, kps: readonly Point[]): Promise<Float32Array> {
    const face = alignFace(img, kps);
    const plane = ARCFACE_SIZE * ARCFACE_SIZE;
    for (let p = 0; p < plane; p++) {
      this.input[p] = (face[p * 3]! - 127) / 128;
      this.input[plane + p] = (face[p * 3 + 1]! - 127) / 128;
      this.input[2 * plane + p] = (face[p * 3 + 2]! - 127) / 128;
    }
    const out = await this.session.run({ input: new Tensor('float32', this.input, [1, 3, ARCFACE_SIZE, ARCFACE_SIZE]) });
    const v = out.output?.data as Float32Array | undefined;
    if (!v || v.length !== EMBEDDING_SIZE) throw new Error(`embed: unexpected output (want ${EMBEDDING_SIZE} values)`);
    return l2normalize(Float32Array.from(v));
  }
}
