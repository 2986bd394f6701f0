// The shot thumbnail of a face: its aligned crop as 32×32 grayscale, and how alike two of them are (for near-duplicates).
import { alignedCropTransform, applyAffine, invertAffine, warpAffineAntialiased, type Affine } from '../engine/align';
import type { Point, RgbImage } from '../engine/types';

export const SHOT_SIDE = 32;
/** The crop's margin: the ArcFace square fills the central 80 %, so hair and a little background count too. */
const SHOT_MARGIN = 0;

/** Source → thumbnail transform of a face (its footprint says which pixels a thumbnail reads). */
export const shotTransform = (kps: readonly Point[]): Affine => alignedCropTransform(kps, SHOT_SIDE, SHOT_MARGIN);

/** Fewest pixels two thumbnails must both show for their correlation to count (half the thumbnail). */
const MIN_COMMON = (SHOT_SIDE * SHOT_SIDE) / 4;

/**
 * 32×32 8-bit luma (BT.601) of the face aligned by its 5 keypoints, row-major; 0 marks a pixel outside the photo
 * (a face cut by the frame, or by a cropped copy), every pixel inside is 1–255.
 */
export function shotThumb(img: RgbImage, kps: readonly Point[]): Uint8Array {
  const m = shotTransform(kps);
  const rgb = warpAffineAntialiased(img, m, SHOT_SIDE, SHOT_SIDE);
  const inv = invertAffine(m);
  const out = new Uint8Array(SHOT_SIDE * SHOT_SIDE);
  for (let i = 0; i < out.length; i++) {
    const [x, y] = applyAffine(inv, [i % SHOT_SIDE, Math.floor(i / SHOT_SIDE)]);
    const inside = x >= 0 && y >= 0 && x <= img.width - 1 && y <= img.height - 1;
    out[i] = inside ? Math.max(1, Math.round(0.299 * rgb[3 * i]! + 0.587 * rgb[3 * i + 1]! + 0.114 * rgb[3 * i + 2]!)) : 0;
  }
  return out;
}

/**
 * Normalised cross-correlation of two thumbnails (−1 … 1) over the pixels both show (non-zero): each made zero-mean
 * and unit-variance first, so a brightened or contrast-changed copy of a shot scores as the shot itself, and a
 * cropped copy is compared on what it kept. A flat thumbnail, or fewer than `minCommon` common pixels, gives 0.
 */
export function shotSimilarity(a: Uint8Array, b: Uint8Array, minCommon = Math.min(MIN_COMMON, a.length)): number {
  if (a.length !== b.length || a.length === 0) throw new Error(`shotSimilarity: thumbnails of ${a.length} and ${b.length} pixels`);
  let n = 0, ma = 0, mb = 0;
  for (let i = 0; i < a.length; i++) if (a[i] && b[i]) { n++; ma += a[i]!; mb += b[i]!; }
  if (n < minCommon) return 0;
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) {
    if (!a[i] || !b[i]) continue;
    const x = a[i]! - ma, y = b[i]! - mb;
    sab += x * y; saa += x * x; sbb += y * y;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}
