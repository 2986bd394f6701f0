// Pixels of an export: the aligned face crop of one face record, and the contact sheet of a face set.
import sharp from 'sharp';
import { alignedCropTransform, warpAffineAntialiased } from '@facesets/shared/engine/align';
import type { Point, RgbImage } from '@facesets/shared/engine/types';

/** exportSize² PNG of the face: 5-point similarity onto the ArcFace template with the engine's whole-face margin. */
export async function renderCropPng(img: RgbImage, kps: readonly Point[], size: number): Promise<Buffer> {
  const m = alignedCropTransform(kps, size);
  const pixels = warpAffineAntialiased(img, m, size, size);
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
}

export const SHEET_THUMB = 128;
export const SHEET_MAX = 64;
export const SHEET_COLUMNS = 8;

/** Grid of up to SHEET_MAX thumbnails (in the order given, best first), SHEET_COLUMNS wide, on a dark background. */
export async function renderContactSheet(pngs: readonly (Buffer | string)[]): Promise<Buffer> {
  const take = pngs.slice(0, SHEET_MAX);
  if (!take.length) throw new Error('contact sheet: no images');
  const cols = Math.min(SHEET_COLUMNS, take.length);
  const rows = Math.ceil(take.length / cols);
  const thumbs = await Promise.all(take.map((p) => sharp(p).resize(SHEET_THUMB, SHEET_THUMB, { fit: 'cover' }).png().toBuffer()));
  return sharp({
    create: { width: cols * SHEET_THUMB, height: rows * SHEET_THUMB, channels: 3, background: { r: 24, g: 24, b: 24 } },
  })
    .composite(thumbs.map((input, i) => ({ input, left: (i % cols) * SHEET_THUMB, top: Math.floor(i / cols) * SHEET_THUMB })))
    .png()
    .toBuffer();
}
