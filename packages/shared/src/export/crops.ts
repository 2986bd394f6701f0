// Pixels of an export: the aligned face crop of one face record.
import sharp from 'sharp';
import { alignedCropTransform, warpAffineAntialiased } from '../engine/align';
import type { Point, RgbImage } from '../engine/types';

/** exportSize² PNG of the face: 5-point similarity onto the ArcFace template with the engine's whole-face margin. */
export async function renderCropPng(img: RgbImage, kps: readonly Point[], size: number): Promise<Buffer> {
  const m = alignedCropTransform(kps, size);
  const pixels = warpAffineAntialiased(img, m, size, size);
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
}
