// 5-point similarity alignment: the ArcFace template, least-squares similarity, bilinear affine warp.
import { resizeRegionRgb } from '../image/resample';
import type { Point, RgbImage } from './types';

/** Row-major 2×3 affine [a, b, tx, c, d, ty]: x' = a·x + b·y + tx, y' = c·x + d·y + ty. */
export type Affine = [a: number, b: number, tx: number, c: number, d: number, ty: number];

/** ArcFace's 112×112 reference points: left eye, right eye, nose tip, left / right mouth corner. */
export const ARCFACE_TEMPLATE: readonly Point[] = Object.freeze([
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
] as Point[]);

export const ARCFACE_SIZE = 112;

/**
 * Default margin of an exportable crop, as a fraction of its side on each edge: the 112 template square
 * fills the central 60 %, which leaves room for forehead, chin, ears and some hair (the whole face).
 */
export const DEFAULT_CROP_MARGIN = 0.2;

/**
 * Least-squares similarity (rotation, uniform scale, translation; no reflection) mapping src onto dst.
 * In 2-D, sR = [p −q; q p] spans exactly the scaled rotations, so the problem is linear and its solution
 * equals Umeyama's with the det(R) = +1 constraint.
 */
export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = src.length;
  if (n < 2 || dst.length !== n) {
    throw new Error(`estimateSimilarity: need ≥ 2 matching point pairs, got ${n} and ${dst.length}`);
  }
  let msx = 0, msy = 0, mdx = 0, mdy = 0;
  for (let i = 0; i < n; i++) {
    msx += src[i]![0]; msy += src[i]![1];
    mdx += dst[i]![0]; mdy += dst[i]![1];
  }
  msx /= n; msy /= n; mdx /= n; mdy /= n;
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const ux = src[i]![0] - msx, uy = src[i]![1] - msy;
    const vx = dst[i]![0] - mdx, vy = dst[i]![1] - mdy;
    dot += ux * vx + uy * vy;
    cross += ux * vy - uy * vx;
    norm += ux * ux + uy * uy;
  }
  if (norm === 0) throw new Error('estimateSimilarity: source points are all identical');
  const p = dot / norm, q = cross / norm;
  return [p, -q, mdx - (p * msx - q * msy), q, p, mdy - (q * msx + p * msy)];
}

export function applyAffine(m: Affine, [x, y]: Point): Point {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, tx, c, d, ty] = m;
  const det = a * d - b * c;
  if (det === 0 || !Number.isFinite(det)) throw new Error('invertAffine: matrix is singular');
  const ia = d / det, ib = -b / det, ic = -c / det, id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

/**
 * Warps img by m (source → output) into an outW×outH RGB buffer, sampling bilinearly at the inverse-mapped
 * point. Pixel centres sit on integer coordinates, as in OpenCV's warpAffine; taps outside the source take
 * the border colour (OpenCV's BORDER_CONSTANT), so edges fade into it instead of smearing.
 */
export function warpAffine(
  img: RgbImage,
  m: Affine,
  outW: number,
  outH: number,
  border: [number, number, number] = [0, 0, 0],
): Uint8Array {
  const [a, b, tx, c, d, ty] = invertAffine(m);
  const { data, width: w, height: h } = img;
  const out = new Uint8Array(outW * outH * 3);
  const [br, bg, bb] = border;
  let o = 0;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++, o += 3) {
      const sx = a * x + b * y + tx;
      const sy = c * x + d * y + ty;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        // Fast path: all four taps inside.
        const i00 = (y0 * w + x0) * 3, i10 = i00 + 3, i01 = i00 + w * 3, i11 = i01 + 3;
        const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
        out[o] = w00 * data[i00]! + w10 * data[i10]! + w01 * data[i01]! + w11 * data[i11]! + 0.5;
        out[o + 1] = w00 * data[i00 + 1]! + w10 * data[i10 + 1]! + w01 * data[i01 + 1]! + w11 * data[i11 + 1]! + 0.5;
        out[o + 2] = w00 * data[i00 + 2]! + w10 * data[i10 + 2]! + w01 * data[i01 + 2]! + w11 * data[i11 + 2]! + 0.5;
        continue;
      }
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        out[o] = br; out[o + 1] = bg; out[o + 2] = bb;
        continue;
      }
      let r = 0, g = 0, bl = 0;
      for (let k = 0; k < 4; k++) {
        const px = x0 + (k & 1), py = y0 + (k >> 1);
        const wt = ((k & 1) ? fx : 1 - fx) * ((k >> 1) ? fy : 1 - fy);
        if (px >= 0 && py >= 0 && px < w && py < h) {
          const i = (py * w + px) * 3;
          r += wt * data[i]!; g += wt * data[i + 1]!; bl += wt * data[i + 2]!;
        } else {
          r += wt * br; g += wt * bg; bl += wt * bb;
        }
      }
      out[o] = r + 0.5; out[o + 1] = g + 0.5; out[o + 2] = bl + 0.5;
    }
  }
  return out;
}

/** Source → 112×112 transform that puts the 5 keypoints on the ArcFace template (the embedder's input). */
export function arcfaceTransform(kps: readonly Point[]): Affine {
  return estimateSimilarity(kps, ARCFACE_TEMPLATE);
}

/**
 * Source → size×size transform of an exportable crop: the ArcFace template square is scaled to
 * size·(1 − 2·margin) and centred, so with the default margin 0.2 it fills the central 60 % and the whole
 * face (forehead, chin, ears) is in the picture. margin 0 gives the ArcFace crop itself, scaled.
 */
export function alignedCropTransform(kps: readonly Point[], size: number, margin = DEFAULT_CROP_MARGIN): Affine {
  if (!(size > 0) || !(margin >= 0 && margin < 0.5)) {
    throw new Error(`alignedCropTransform: need size > 0 and 0 ≤ margin < 0.5, got ${size} and ${margin}`);
  }
  const k = (size * (1 - 2 * margin)) / ARCFACE_SIZE;
  const off = size * margin;
  const dst = ARCFACE_TEMPLATE.map(([x, y]): Point => [x * k + off, y * k + off]);
  return estimateSimilarity(kps, dst);
}

/**
 * Source pixels that warpAffine and warpAffineAntialiased read for an outW×outH output of m: its corners mapped
 * back, with 2 px of slack before and 3 after (bilinear taps, area-averaging spans); not clipped to the image.
 */
export function warpFootprint(m: Affine, outW: number, outH: number): { x: number; y: number; width: number; height: number } {
  const inv = invertAffine(m);
  const corners = [[0, 0], [outW - 1, 0], [0, outH - 1], [outW - 1, outH - 1]].map(([x, y]) => applyAffine(inv, [x!, y!]));
  const xs = corners.map((p) => p[0]), ys = corners.map((p) => p[1]);
  const x = Math.floor(Math.min(...xs)) - 2, y = Math.floor(Math.min(...ys)) - 2;
  return { x, y, width: Math.ceil(Math.max(...xs)) + 3 - x, height: Math.ceil(Math.max(...ys)) + 3 - y };
}

/**
 * warpAffine that first shrinks the source region it reads by area averaging when m shrinks by more than
 * 4/3, so a large face aligned down to 112 px is not aliased (plain bilinear would skip most source
 * pixels); the remaining warp is then about 1:1. Otherwise it is warpAffine itself.
 */
export function warpAffineAntialiased(
  img: RgbImage,
  m: Affine,
  outW: number,
  outH: number,
  border: [number, number, number] = [0, 0, 0],
): Uint8Array {
  const scale = Math.sqrt(Math.abs(m[0] * m[4] - m[1] * m[3]));
  if (scale >= 0.75) return warpAffine(img, m, outW, outH, border);
  // Source rectangle the output reads, clipped to the image.
  const f = warpFootprint(m, outW, outH);
  const rx = Math.max(0, f.x), ry = Math.max(0, f.y);
  const rx2 = Math.min(img.width, f.x + f.width), ry2 = Math.min(img.height, f.y + f.height);
  if (rx2 <= rx || ry2 <= ry) return warpAffine(img, m, outW, outH, border);
  const rw = rx2 - rx, rh = ry2 - ry;
  const tw = Math.max(1, Math.round(rw * scale)), th = Math.max(1, Math.round(rh * scale));
  const small = resizeRegionRgb(img, rx, ry, rw, rh, tw, th);
  // Small-image pixel q covers source [rx + q/s, rx + (q+1)/s): source x = (q + 0.5)/s − 0.5 + rx.
  const sx = tw / rw, sy = th / rh;
  const cx = 0.5 / sx - 0.5 + rx, cy = 0.5 / sy - 0.5 + ry;
  const [a, b, tx, c, d, ty] = m;
  const onSmall: Affine = [a / sx, b / sy, a * cx + b * cy + tx, c / sx, d / sy, c * cx + d * cy + ty];
  return warpAffine(small, onSmall, outW, outH, border);
}
