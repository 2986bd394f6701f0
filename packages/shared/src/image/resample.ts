// Resampling of decoded RGB images: whole-image resizes (sharp) and small antialiased crops (in JS).
import sharp from 'sharp';
import type { RgbImage } from '../engine/types';

/**
 * Separable resampling weights from `inLen` to `outLen` samples: area averaging when shrinking (each output
 * averages the input span it covers, as OpenCV's INTER_AREA), linear interpolation when enlarging.
 * Returns per output sample its first input index and weights.
 */
function weights(inLen: number, outLen: number): { start: Int32Array; count: Int32Array; w: Float32Array; stride: number } {
  const scale = inLen / outLen;
  const stride = scale > 1 ? Math.ceil(scale) + 1 : 2;
  const start = new Int32Array(outLen), count = new Int32Array(outLen), w = new Float32Array(outLen * stride);
  for (let o = 0; o < outLen; o++) {
    if (scale > 1) {
      const a = o * scale, b = a + scale;
      const i0 = Math.floor(a), i1 = Math.min(inLen, Math.ceil(b));
      start[o] = i0;
      count[o] = i1 - i0;
      for (let i = i0; i < i1; i++) w[o * stride + i - i0] = (Math.min(b, i + 1) - Math.max(a, i)) / scale;
    } else {
      const c = Math.min(inLen - 1, Math.max(0, (o + 0.5) * scale - 0.5));
      const i0 = Math.min(Math.floor(c), inLen - 1), f = c - i0;
      start[o] = i0;
      count[o] = i0 + 1 < inLen ? 2 : 1;
      w[o * stride] = count[o] === 2 ? 1 - f : 1;
      w[o * stride + 1] = f;
    }
  }
  return { start, count, w, stride };
}

/** Below this many source pixels a resize stays in JS: sharp's per-call overhead (~3 ms) dominates there. */
const JS_RESIZE_MAX_PIXELS = 400_000;

/** Resizes to width×height, antialiased when shrinking: in JS for small images, with sharp for large ones. */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (width === img.width && height === img.height) return img;
  if (img.width * img.height <= JS_RESIZE_MAX_PIXELS) return resizeRgbJs(img, width, height);
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
}

/** Separable resize in JS: area averaging when shrinking, bilinear when enlarging. */
export function resizeRgbJs(img: RgbImage, width: number, height: number): RgbImage {
  return resizeRegionRgb(img, 0, 0, img.width, img.height, width, height);
}

/** resizeRgbJs of the rectangle [rx, rx+rw) × [ry, ry+rh) of img (which must lie inside it), without a copy. */
export function resizeRegionRgb(
  img: RgbImage,
  rx: number,
  ry: number,
  rw: number,
  rh: number,
  width: number,
  height: number,
): RgbImage {
  const { data, width: iw } = img;
  const wx = weights(rw, width), wy = weights(rh, height);
  const tmp = new Float32Array(rh * width * 3);
  for (let y = 0; y < rh; y++) {
    const row = ((ry + y) * iw + rx) * 3, out = y * width * 3;
    for (let x = 0; x < width; x++) {
      const s0 = wx.start[x]!, n = wx.count[x]!, wo = x * wx.stride;
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < n; k++) {
        const wt = wx.w[wo + k]!, i = row + (s0 + k) * 3;
        r += wt * data[i]!; g += wt * data[i + 1]!; b += wt * data[i + 2]!;
      }
      tmp[out + x * 3] = r; tmp[out + x * 3 + 1] = g; tmp[out + x * 3 + 2] = b;
    }
  }
  const out = new Uint8Array(width * height * 3);
  const rowLen = width * 3;
  for (let y = 0; y < height; y++) {
    const s0 = wy.start[y]!, n = wy.count[y]!, wo = y * wy.stride, o = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let v = 0;
      for (let k = 0; k < n; k++) v += wy.w[wo + k]! * tmp[(s0 + k) * rowLen + i]!;
      out[o + i] = v + 0.5;
    }
  }
  return { data: out, width, height };
}

function lanczos3(x: number): number {
  if (x === 0) return 1;
  if (x <= -3 || x >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
}

/** Lanczos-3 weights for shrinking `inLen` samples to `outLen` (the kernel widened by the ratio), normalised. */
function lanczosWeights(inLen: number, outLen: number): { start: Int32Array; count: Int32Array; w: Float32Array; stride: number } {
  const scale = inLen / outLen;
  const support = 3 * scale;
  const stride = Math.ceil(2 * support) + 2;
  const start = new Int32Array(outLen), count = new Int32Array(outLen), w = new Float32Array(outLen * stride);
  for (let o = 0; o < outLen; o++) {
    const c = (o + 0.5) * scale - 0.5;
    const i0 = Math.max(0, Math.ceil(c - support)), i1 = Math.min(inLen - 1, Math.floor(c + support));
    let sum = 0;
    for (let i = i0; i <= i1; i++) sum += (w[o * stride + i - i0] = lanczos3((i - c) / scale));
    for (let i = i0; i <= i1; i++) w[o * stride + i - i0]! /= sum;
    start[o] = i0;
    count[o] = i1 - i0 + 1;
  }
  return { start, count, w, stride };
}

/**
 * Separable Lanczos-3 shrink of a row-major 8-bit gray image to outW×outH (each ≤ its input), rounded and
 * clamped to 0..255. Unlike area averaging it keeps detail near the new Nyquist limit at any ratio.
 */
export function shrinkGrayLanczos3(gray: ArrayLike<number>, w: number, h: number, outW: number, outH: number): Uint8Array {
  if (outW > w || outH > h) throw new Error(`shrinkGrayLanczos3: ${w}×${h} cannot shrink to ${outW}×${outH}`);
  const wx = lanczosWeights(w, outW), wy = lanczosWeights(h, outH);
  const tmp = new Float32Array(h * outW);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < outW; x++) {
      const s0 = wx.start[x]!, n = wx.count[x]!, wo = x * wx.stride;
      let v = 0;
      for (let k = 0; k < n; k++) v += wx.w[wo + k]! * gray[row + s0 + k]!;
      tmp[y * outW + x] = v;
    }
  }
  const out = new Uint8Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const s0 = wy.start[y]!, n = wy.count[y]!, wo = y * wy.stride;
    for (let x = 0; x < outW; x++) {
      let v = 0;
      for (let k = 0; k < n; k++) v += wy.w[wo + k]! * tmp[(s0 + k) * outW + x]!;
      out[y * outW + x] = v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
    }
  }
  return out;
}

/** OpenCV's fixed-point RGB→gray (0.299 R + 0.587 G + 0.114 B, rounded), so blur matches cvtColor. */
export function grayValue(r: number, g: number, b: number): number {
  return (r * 4899 + g * 9617 + b * 1868 + 8192) >> 14;
}

/**
 * Grayscale outSize×outSize crop of the square [x, y, x+side)² with area averaging (n×n bilinear taps per
 * output pixel when shrinking, n ≤ 4: enough against aliasing, bounded cost on huge faces); pixels outside
 * the image repeat its edge.
 */
export function cropSquareGray(img: RgbImage, x: number, y: number, side: number, outSize: number): Float32Array {
  const { data, width: w, height: h } = img;
  const step = side / outSize;
  const n = Math.min(4, Math.max(1, Math.ceil(step)));
  const out = new Float32Array(outSize * outSize);
  const clampX = (v: number): number => (v < 0 ? 0 : v > w - 1 ? w - 1 : v);
  const clampY = (v: number): number => (v < 0 ? 0 : v > h - 1 ? h - 1 : v);
  for (let oy = 0; oy < outSize; oy++) {
    for (let ox = 0; ox < outSize; ox++) {
      let sum = 0;
      for (let j = 0; j < n; j++) {
        // Tap centres spread evenly over the output pixel's footprint; pixel centres sit at +0.5.
        const sy = clampY(y + (oy + (j + 0.5) / n) * step - 0.5);
        const y0 = Math.floor(sy), fy = sy - y0, y1 = Math.min(y0 + 1, h - 1);
        for (let i = 0; i < n; i++) {
          const sx = clampX(x + (ox + (i + 0.5) / n) * step - 0.5);
          const x0 = Math.floor(sx), fx = sx - x0, x1 = Math.min(x0 + 1, w - 1);
          const g00 = gray(data, (y0 * w + x0) * 3), g10 = gray(data, (y0 * w + x1) * 3);
          const g01 = gray(data, (y1 * w + x0) * 3), g11 = gray(data, (y1 * w + x1) * 3);
          sum += (g00 * (1 - fx) + g10 * fx) * (1 - fy) + (g01 * (1 - fx) + g11 * fx) * fy;
        }
      }
      out[oy * outSize + ox] = sum / (n * n);
    }
  }
  return out;
}

function gray(data: Uint8Array, i: number): number {
  return 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
}

/** Resizes the in-image part [x, y, x+w, y+h) of img to outW×outH (sharp: extract, then resize). */
export async function cropResizeRgb(
  img: RgbImage,
  x: number,
  y: number,
  w: number,
  h: number,
  outW: number,
  outH: number,
): Promise<RgbImage> {
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extract({ left: x, top: y, width: w, height: h })
    .resize(outW, outH, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: outW, height: outH };
}
