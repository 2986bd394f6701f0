// Contact sheet of a face set: a grid of its PNGs, best first, and its pose coverage beside it, linked from the report.
import sharp from 'sharp';
import type { Pose } from '../curation/pose';
import { poseDotsSvg } from './pose-coverage';

export const SHEET_THUMB = 128;
export const SHEET_MAX = 64;
export const SHEET_COLUMNS = 8;

/** Side of the pose plot (yaw × pitch dots of every face of the set) at the sheet's right. */
export const SHEET_PLOT = 2 * SHEET_THUMB;

/**
 * Grid of up to SHEET_MAX thumbnails (in the order given, best first), SHEET_COLUMNS wide, on a dark background; with
 * `poses` (every face of the set, not only the thumbnails shown), their yaw × pitch plot at the right, so a set that is
 * all frontal shows as one clump.
 */
export async function renderContactSheet(pngs: readonly (Buffer | string)[], poses?: readonly (Pose | null | undefined)[]): Promise<Buffer> {
  const take = pngs.slice(0, SHEET_MAX);
  if (!take.length) throw new Error('contact sheet: no images');
  const cols = Math.min(SHEET_COLUMNS, take.length);
  const rows = Math.ceil(take.length / cols);
  const thumbs = await Promise.all(take.map((p) => sharp(p).resize(SHEET_THUMB, SHEET_THUMB, { fit: 'cover' }).png().toBuffer()));
  const gridW = cols * SHEET_THUMB;
  const plot = poses ? [{ input: Buffer.from(poseDotsSvg(poses, SHEET_PLOT)), left: gridW, top: 0 }] : [];
  return sharp({
    create: {
      width: gridW + (poses ? SHEET_PLOT : 0), height: Math.max(rows * SHEET_THUMB, poses ? SHEET_PLOT : 0), channels: 3, background: { r: 24, g: 24, b: 24 },
    },
  })
    .composite([...thumbs.map((input, i) => ({ input, left: (i % cols) * SHEET_THUMB, top: Math.floor(i / cols) * SHEET_THUMB })), ...plot])
    .png()
    .toBuffer();
}
