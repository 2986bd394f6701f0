// Sharpness of a face: variance of the 3×3 Laplacian over its grayscale box, as OpenCV's Laplacian(gray).var().
import { grayValue } from '../image/resample';
import type { Box, RgbImage } from './types';

/**
 * Variance of the ksize=1 Laplacian [0,1,0; 1,−4,1; 0,1,0] with BORDER_REFLECT_101, over a row-major
 * 8-bit grayscale array (population variance, like numpy's var()).
 */
export function laplacianVariance(gray: ArrayLike<number>, width: number, height: number): number {
  if (width <= 0 || height <= 0) return 0;
  // REFLECT_101 mirrors around the edge pixel: index −1 → 1, n → n−2 (a 1-pixel side reflects onto itself).
  const reflect = (i: number, n: number): number => (n === 1 ? 0 : i < 0 ? -i : i >= n ? 2 * n - 2 - i : i);
  let sum = 0, sumSq = 0;
  for (let y = 0; y < height; y++) {
    const up = reflect(y - 1, height) * width, row = y * width, down = reflect(y + 1, height) * width;
    for (let x = 0; x < width; x++) {
      const left = reflect(x - 1, width), right = reflect(x + 1, width);
      const v = gray[up + x]! + gray[down + x]! + gray[row + left]! + gray[row + right]! - 4 * gray[row + x]!;
      sum += v;
      sumSq += v * v;
    }
  }
  const n = width * height;
  const mean = sum / n;
  return Math.max(0, sumSq / n - mean * mean);
}

/**
 * Blur measure of a face box at source resolution. The box is clipped to the image and cut at integer
 * pixels the way `gray[int(y1):int(y2), int(x1):int(x2)]` does; the crop is filtered on its own, so its
 * borders reflect inside it.
 */
export function faceBlur(img: RgbImage, box: Box): number {
  const x1 = Math.max(0, Math.floor(box[0])), y1 = Math.max(0, Math.floor(box[1]));
  const x2 = Math.min(img.width, Math.floor(box[2])), y2 = Math.min(img.height, Math.floor(box[3]));
  const w = x2 - x1, h = y2 - y1;
  if (w <= 0 || h <= 0) return 0;
  const gray = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = ((y1 + y) * img.width + x1 + x) * 3;
      gray[y * w + x] = grayValue(img.data[i]!, img.data[i + 1]!, img.data[i + 2]!);
    }
  }
  return laplacianVariance(gray, w, h);
}
