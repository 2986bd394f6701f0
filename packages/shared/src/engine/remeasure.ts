// Re-measures the blur of a cached source's known face boxes (no detection, no embedding): the cheap pass that
// brings faces stored under an older blur definition up to BLUR_VERSION.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { decodeImageBuffer, DecodeError } from '../image/decode';
import { faceBlur } from './blur';
import type { Box } from './types';

export type BlurRemeasure =
  | { ok: true; sha256: string; blur: number[] }
  | { ok: false; sha256?: string; error: string };

/** blur of each box of the file, in order; never throws (a failure names its stage). */
export async function remeasureBlur(path: string, boxes: readonly Box[], opts: { maxPixels: number }): Promise<BlurRemeasure> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    return { ok: false, error: `read: ${(err as Error).message}` };
  }
  const sha256 = createHash('sha256').update(buf).digest('hex');
  try {
    const img = await decodeImageBuffer(buf, { maxPixels: opts.maxPixels });
    return { ok: true, sha256, blur: boxes.map((box) => faceBlur(img, box)) };
  } catch (err) {
    return { ok: false, sha256, error: `decode: ${err instanceof DecodeError ? err.reason : (err as Error).message}` };
  }
}
