// Which pixels the steps of one face read (footprints, the least scale they need) and its blur measured on them,
// shared by the engine's detection pass and its re-measure of cached boxes, so both give the same score.
import { openImage, toView, type Pixels, type PixelSource, type Rect } from '../image/source-image';
import { BLUR_SIZE, faceBlur } from './blur';
import { planPyramid } from './pyramid';
import type { Box } from './types';

/** Opens an image the way the engine reads it: large JPEGs at the detector's finest pyramid level. */
export function openForEngine(
  buf: Uint8Array,
  opts: { maxPixels: number; minFaceSize: number; fullDecode?: boolean },
  path?: string,
): Promise<PixelSource> {
  return openImage(
    buf,
    {
      maxPixels: opts.maxPixels,
      fullDecode: opts.fullDecode,
      // The finest pyramid level is the largest view the detector asks for.
      scaledSize: (w, h) => planPyramid(w, h, opts.minFaceSize).reduce((a, l) => (l.scale > a.scale ? l : a)),
    },
    path,
  );
}

/** A box in the coordinates of the pixels' image. */
export function viewBox(px: Pixels, box: Box): Box {
  const [x1, y1] = toView(px, [box[0], box[1]]), [x2, y2] = toView(px, [box[2], box[3]]);
  return [x1, y1, x2, y2];
}

/**
 * Below this many pixels on the face's short side a view is not fine enough for it: blur shrinks the box to
 * BLUR_SIZE (never enlarging), and the 64 px landmark crop and the 112 px ArcFace warp need less; 25 % more keeps
 * every step a real shrink of what it reads, so a large face measured on a scaled view scores as at full size.
 */
const FACE_VIEW_SHORT = 1.25 * BLUR_SIZE;

/** The least scale a face's landmark crop, alignment and blur need their pixels at. */
export function faceMinScale(box: Box): number {
  return Math.min(1, FACE_VIEW_SHORT / Math.max(1, Math.min(box[2] - box[0], box[3] - box[1])));
}

/** The pixels a box covers, with one more on the right and bottom (a box edge is not an integer). */
export function boxRect(box: Box): Rect {
  const x = Math.floor(box[0]), y = Math.floor(box[1]);
  return { x, y, width: Math.ceil(box[2]) + 1 - x, height: Math.ceil(box[3]) + 1 - y };
}

/**
 * A generous guess, before landmarks exist, at the pixels a face's landmark crop, alignment warp and blur will
 * read: a square of twice the box's long side around its centre (the ArcFace crop of a frontal face spans
 * about 1.3 box widths; a miss only costs a second read).
 */
export function facePixels(box: Box): Rect {
  const side = 2 * Math.max(box[2] - box[0], box[3] - box[1]);
  const cx = (box[0] + box[2]) / 2, cy = (box[1] + box[3]) / 2;
  return { x: cx - side / 2, y: cy - side / 2, width: side, height: side };
}

/** A face's blur, measured on the pixels the engine measures it on. */
export async function blurOf(src: PixelSource, box: Box): Promise<number> {
  const px = await src.pixels(boxRect(box), faceMinScale(box));
  return faceBlur(px.img, viewBox(px, box));
}
