// Face detection with fr_detect.onnx over an image pyramid of 320×240 tiles, merged by NMS.
import { cropResizeRgb } from '../image/resample';
import type { PixelSource, Rect } from '../image/source-image';
import { iou, nms } from './nms';
import type { OnnxModel, Outputs } from './onnx-model';
import { DETECTOR_HEIGHT as DH, DETECTOR_WIDTH as DW, planPyramid, type PyramidLevel } from './pyramid';
import type { Box, RgbImage } from './types';

export interface Detection {
  /** Detector box in source pixels, clipped to the image; not squared (the landmark crop squares it). */
  box: Box;
  score: number;
  /** Set on a candidate first seen smaller than SURE_HEIGHT detector px: only its verify look scores it. */
  small?: true;
}

export interface DetectOptions {
  detThreshold: number;
  minFaceSize: number;
}

/** A box edge this close (detector px) to an inner tile border means the face may be cut there. */
const TILE_EDGE_MARGIN = 2;
/**
 * Candidates scoring below this get a second look: one more detector run on a view where the face is
 * 40–64 px tall, the size the detector is surest at. Textures (hair, foliage, blur) that pass at 20 px
 * score ~0.2 there, real faces ~0.99; the reported score is the geometric mean of both looks.
 */
const VERIFY_BELOW = 0.99;
const VERIFY_MIN_HEIGHT = 40;
/**
 * Below this box height (detector px) a first look only nominates: real 40 px faces seen at 14–20 px scored
 * 0.7–0.99 there and 1.00 at 40–64 px, so their verify look alone scores them (textures score ~0.2 there).
 */
const SURE_HEIGHT = 20;
const VERIFY_MAX_HEIGHT = 64;
/** Anchors the detector scores; its outputs are 1×ANCHORS×2 scores and 1×ANCHORS×4 boxes. */
const ANCHORS = 4420;

/** Item dims of the detector input, batch dim first. */
export const DETECTOR_INPUT_DIMS = [1, 3, DH, DW] as const;

function detectorOutputs(out: Outputs): { scores: Float32Array; boxes: Float32Array } {
  const { scores, boxes } = out;
  if (!scores || !boxes || scores.length !== ANCHORS * 2 || boxes.length !== ANCHORS * 4) {
    throw new Error('detector: unexpected outputs (want scores 1×4420×2 and boxes 1×4420×4)');
  }
  return { scores, boxes };
}

export class FaceDetector {
  constructor(private readonly model: OnnxModel) {}

  async detect(src: PixelSource, opts: DetectOptions): Promise<Detection[]> {
    return this.verify(src, await this.candidates(src, opts), opts);
  }

  /** Every box the pyramid's tiles find, merged by NMS; those needsVerify() picks still need verify(). */
  async candidates(src: PixelSource, opts: DetectOptions): Promise<Detection[]> {
    const candidates: Detection[] = [];
    for (const level of planPyramid(src.width, src.height, opts.minFaceSize)) {
      const scaled = await src.scaled(level.width, level.height);
      const sx = level.width / src.width, sy = level.height / src.height;
      // A level's tiles go through the detector together (in runs of the model's batch size).
      const outs = await this.model.runMany(level.tiles.length, (t) => tileInput(scaled, level.tiles[t]!.x, level.tiles[t]!.y));
      for (const [t, tile] of level.tiles.entries()) {
        const { scores, boxes } = detectorOutputs(outs[t]!);
        for (let i = 0; i < ANCHORS; i++) {
          const score = scores[i * 2 + 1]!;
          if (score < opts.detThreshold) continue;
          // Boxes come decoded, normalised x1, y1, x2, y2 of the 320×240 input.
          const x1 = boxes[i * 4]! * DW, y1 = boxes[i * 4 + 1]! * DH;
          const x2 = boxes[i * 4 + 2]! * DW, y2 = boxes[i * 4 + 3]! * DH;
          if (!(x2 > x1 && y2 > y1) || !accepts(level, tile, x1, y1, x2, y2)) continue;
          const box: Box = [
            clamp((x1 + tile.x) / sx, 0, src.width),
            clamp((y1 + tile.y) / sy, 0, src.height),
            clamp((x2 + tile.x) / sx, 0, src.width),
            clamp((y2 + tile.y) / sy, 0, src.height),
          ];
          if (box[2] - box[0] >= 1 && box[3] - box[1] >= 1) candidates.push(y2 - y1 < SURE_HEIGHT ? { box, score, small: true } : { box, score });
        }
      }
    }
    return nms(candidates);
  }

  /** Gives the candidates needsVerify() picks their second look (together); the survivors, most confident first. */
  async verify(src: PixelSource, candidates: Detection[], opts: DetectOptions): Promise<Detection[]> {
    const doubtful = candidates.filter(needsVerify);
    const views: { input: Float32Array; expected: Box }[] = [];
    for (const det of doubtful) views.push(await verifyView(src, det.box));
    const outs = await this.model.runMany(views.length, (i) => views[i]!.input);
    const second = new Map(doubtful.map((det, i) => [det, bestMatch(detectorOutputs(outs[i]!), views[i]!.expected)]));
    const verified: Detection[] = [];
    for (const det of candidates) {
      const look = second.get(det);
      if (look === undefined) {
        verified.push({ box: det.box, score: det.score });
        continue;
      }
      const score = det.small ? look : Math.sqrt(det.score * look);
      if (score >= opts.detThreshold) verified.push({ box: det.box, score });
    }
    return verified.sort((a, b) => b.score - a.score);
  }
}

/**
 * The source pixels a candidate's second look reads: the 320×240 window centred on it at the scale that makes
 * it 40–64 px tall (`wx`, `wy`: its top-left, maybe outside the image), clipped to the image.
 */
export function verifyWindow(box: Box, width: number, height: number): Rect & { scale: number; wx: number; wy: number } {
  const h = box[3] - box[1];
  const s = clamp(h, VERIFY_MIN_HEIGHT, VERIFY_MAX_HEIGHT) / h;
  const wx = (box[0] + box[2]) / 2 - DW / 2 / s, wy = (box[1] + box[3]) / 2 - DH / 2 / s;
  const ix0 = Math.max(0, Math.floor(wx)), iy0 = Math.max(0, Math.floor(wy));
  const ix1 = Math.min(width, Math.ceil(wx + DW / s)), iy1 = Math.min(height, Math.ceil(wy + DH / s));
  return { x: ix0, y: iy0, width: ix1 - ix0, height: iy1 - iy0, scale: s, wx, wy };
}

/** Whether a candidate gets a second look: the detector was not sure, or saw it too small to be. */
export function needsVerify(det: Detection): boolean {
  return det.score < VERIFY_BELOW || det.small === true;
}

/** The second look at a candidate: a 320×240 view centred on `box`, scaled to 40–64 px face height, and where the box lies in it. */
async function verifyView(src: PixelSource, box: Box): Promise<{ input: Float32Array; expected: Box }> {
  const { x: ix0, y: iy0, width: iw, height: ih, scale: s, wx, wy } = verifyWindow(box, src.width, src.height);
  // Pixels at least as fine as this view: full resolution for small faces, else a scaled view of the image.
  const px = await src.pixels({ x: ix0, y: iy0, width: iw, height: ih }, s);
  const vx0 = Math.floor((ix0 - px.x) * px.scaleX), vy0 = Math.floor((iy0 - px.y) * px.scaleY);
  const vx1 = Math.min(px.img.width, Math.ceil((ix0 + iw - px.x) * px.scaleX));
  const vy1 = Math.min(px.img.height, Math.ceil((iy0 + ih - px.y) * px.scaleY));
  const pw = Math.max(1, Math.min(DW, Math.round(iw * s))), ph = Math.max(1, Math.min(DH, Math.round(ih * s)));
  const part = await cropResizeRgb(px.img, vx0, vy0, vx1 - vx0, vy1 - vy0, pw, ph);
  const dx = Math.round((ix0 - wx) * s), dy = Math.round((iy0 - wy) * s);
  const psx = pw / iw, psy = ph / ih;
  const expected: Box = [(box[0] - ix0) * psx + dx, (box[1] - iy0) * psy + dy, (box[2] - ix0) * psx + dx, (box[3] - iy0) * psy + dy];
  return { input: tileInput(part, -dx, -dy), expected };
}

/** Best score of a detector box overlapping `expected` (IoU ≥ 0.3). */
function bestMatch({ scores, boxes }: { scores: Float32Array; boxes: Float32Array }, expected: Box): number {
  let best = 0;
  for (let i = 0; i < ANCHORS; i++) {
    const score = scores[i * 2 + 1]!;
    if (score <= best) continue;
    const b: Box = [boxes[i * 4]! * DW, boxes[i * 4 + 1]! * DH, boxes[i * 4 + 2]! * DW, boxes[i * 4 + 3]! * DH];
    if (iou(b, expected) >= 0.3) best = score;
  }
  return best;
}

/**
 * The 320×240 window of img whose top-left is (x0, y0) (negative: the image starts inside the window) as
 * planar (v − 127) / 128; outside the image is 0, a neutral grey.
 */
function tileInput(img: RgbImage, x0: number, y0: number): Float32Array {
  const plane = DW * DH;
  const { data, width } = img;
  const input = new Float32Array(3 * plane);
  const xa = Math.max(0, -x0), ya = Math.max(0, -y0);
  const xb = Math.min(DW, img.width - x0), yb = Math.min(DH, img.height - y0);
  for (let y = ya; y < yb; y++) {
    let s = ((y0 + y) * width + x0 + xa) * 3;
    let d = y * DW + xa;
    for (let x = xa; x < xb; x++, s += 3, d++) {
      input[d] = (data[s]! - 127) / 128;
      input[plane + d] = (data[s + 1]! - 127) / 128;
      input[2 * plane + d] = (data[s + 2]! - 127) / 128;
    }
  }
  return input;
}

/** Whether this level is responsible for a box of this size, and the box is not cut by an inner tile border. */
function accepts(level: PyramidLevel, tile: { x: number; y: number }, x1: number, y1: number, x2: number, y2: number): boolean {
  const h = y2 - y1;
  if (h < level.minHeight || h >= level.maxHeight) return false;
  if (!level.tiled) return true;
  const m = TILE_EDGE_MARGIN;
  if (tile.x > 0 && x1 < m) return false;
  if (tile.y > 0 && y1 < m) return false;
  if (tile.x + DW < level.width && x2 > DW - m) return false;
  if (tile.y + DH < level.height && y2 > DH - m) return false;
  return true;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
