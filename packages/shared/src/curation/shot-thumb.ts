// The shot thumbnail of a face: its aligned crop as 32×32 grayscale, and how alike two of them are (for near-duplicates).
import { alignedCropTransform, warpAffineAntialiased, type Affine } from '../engine/align';
import type { Point, RgbImage } from '../engine/types';

export const SHOT_SIDE = 32;
/** The crop's margin: the ArcFace square fills the central 80 %, so hair and a little background count too. */
const SHOT_MARGIN = 0.1;

/** Source → thumbnail transform of a face (its footprint says which pixels a thumbnail reads). */
export const shotTransform = (kps: readonly Point[]): Affine => alignedCropTransform(kps, SHOT_SIDE, SHOT_MARGIN);

/** 32×32 8-bit luma (BT.601) of the face aligned by its 5 keypoints, row-major. */
export function shotThumb(img: RgbImage, kps: readonly Point[]): Uint8Array {
  const rgb = warpAffineAntialiased(img, shotTransform(kps), SHOT_SIDE, SHOT_SIDE);
  const out = new Uint8Array(SHOT_SIDE * SHOT_SIDE);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(0.299 * rgb[3 * i]! + 0.587 * rgb[3 * i + 1]! + 0.114 * rgb[3 * i + 2]!);
  return out;
}

/**
 * Normalised cross-correlation of two thumbnails (−1 … 1): each made zero-mean and unit-variance first, so a
 * brightened or contrast-changed copy of a shot scores as the shot itself. A flat thumbnail correlates 0.
 */
export function shotSimilarity(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length || a.length === 0) throw new Error(`shotSimilarity: thumbnails of ${a.length} and ${b.length} pixels`);
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]!; mb += b[i]!; }
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma, y = b[i]! - mb;
    sab += x * y; saa += x * x; sbb += y * y;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}
