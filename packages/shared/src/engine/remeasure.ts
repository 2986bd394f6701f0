// Re-measures the blur of a cached source's known face boxes (no detection, no embedding): the cheap pass that
// brings faces stored under an older blur definition up to BLUR_VERSION.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fsPath } from '../jobs/fs-path';
import { DecodeError } from '../image/decode';
import { DEFAULT_MIN_FACE_SIZE } from './engine';
import { blurOf, boxRect, faceMinScale, openForEngine } from './face-pixels';
import type { Box } from './types';

export type BlurRemeasure =
  | { ok: true; sha256: string; blur: number[] }
  | { ok: false; sha256?: string; error: string };

/**
 * blur of each box of the file, in order, read as the engine reads it (a large JPEG: its scaled view and one
 * full-resolution region around the faces that need it, no whole decode); never throws (a failure names its stage).
 */
export async function remeasureBlur(path: string, boxes: readonly Box[], opts: { maxPixels: number }): Promise<BlurRemeasure> {
  let buf: Buffer;
  try {
    buf = await readFile(fsPath(path));
  } catch (err) {
    return { ok: false, error: `read: ${(err as Error).message}` };
  }
  const sha256 = createHash('sha256').update(buf).digest('hex');
  try {
    const src = await openForEngine(buf, { maxPixels: opts.maxPixels, minFaceSize: DEFAULT_MIN_FACE_SIZE });
    await src.preload(boxes.map((box) => ({ rect: boxRect(box), minScale: faceMinScale(box) })));
    const blur: number[] = [];
    for (const box of boxes) blur.push(await blurOf(src, box));
    return { ok: true, sha256, blur };
  } catch (err) {
    return { ok: false, sha256, error: `decode: ${err instanceof DecodeError ? err.reason : (err as Error).message}` };
  }
}
