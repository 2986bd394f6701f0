// Contact sheet of a face set: a grid of its PNGs, best first, linked from the report.
import sharp from 'sharp';

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
