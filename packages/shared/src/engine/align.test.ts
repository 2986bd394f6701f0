// Unit tests of the similarity estimate, affine inversion, bilinear warp and export-crop transform.
import { describe, expect, it } from 'vitest';
import {
  ARCFACE_TEMPLATE,
  alignedCropTransform,
  applyAffine,
  estimateSimilarity,
  invertAffine,
  warpAffine,
  warpAffineAntialiased,
  type Affine,
} from './align';
import type { Point } from './types';

function expectAffine(actual: Affine, expected: Affine): void {
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 9));
}

const square: Point[] = [[0, 0], [10, 0], [10, 10], [0, 10], [5, 3]];

describe('estimateSimilarity', () => {
  it('recovers the identity', () => {
    expectAffine(estimateSimilarity(square, square), [1, 0, 0, 0, 1, 0]);
  });

  it('recovers a pure translation', () => {
    const dst = square.map(([x, y]): Point => [x + 7, y - 3]);
    expectAffine(estimateSimilarity(square, dst), [1, 0, 7, 0, 1, -3]);
  });

  it('recovers a pure scale', () => {
    const dst = square.map(([x, y]): Point => [2 * x, 2 * y]);
    expectAffine(estimateSimilarity(square, dst), [2, 0, 0, 0, 2, 0]);
  });

  it('recovers a 90° rotation with scale and translation', () => {
    // x' = −3y + 1, y' = 3x + 2: rotation by +90° (y down), scale 3.
    const dst = square.map(([x, y]): Point => [-3 * y + 1, 3 * x + 2]);
    expectAffine(estimateSimilarity(square, dst), [0, -3, 1, 3, 0, 2]);
  });

  it('never returns a reflection: a mirrored target gives a rotation', () => {
    const dst = square.map(([x, y]): Point => [-x, y]);
    const [a, b, , c, d] = estimateSimilarity(square, dst);
    expect(a * d - b * c).toBeGreaterThanOrEqual(0);
    expect(a).toBeCloseTo(d, 12);
    expect(b).toBeCloseTo(-c, 12);
  });

  it('maps the template onto itself scaled by 2', () => {
    const dst = ARCFACE_TEMPLATE.map(([x, y]): Point => [2 * x, 2 * y]);
    expectAffine(estimateSimilarity(ARCFACE_TEMPLATE, dst), [2, 0, 0, 0, 2, 0]);
  });
});

describe('invertAffine', () => {
  it('undoes a transform', () => {
    const m: Affine = [0.8, -0.6, 5, 0.6, 0.8, -2];
    const inv = invertAffine(m);
    const p = applyAffine(inv, applyAffine(m, [3, 4]));
    expect(p[0]).toBeCloseTo(3, 12);
    expect(p[1]).toBeCloseTo(4, 12);
    expectAffine(invertAffine([2, 0, 4, 0, 2, 6]), [0.5, 0, -2, 0, 0.5, -3]);
  });

  it('rejects a singular matrix', () => {
    expect(() => invertAffine([1, 2, 0, 2, 4, 0])).toThrow(/singular/);
  });
});

describe('warpAffine', () => {
  // 4×1 horizontal gradient: red = 0, 100, 200, 250; green = 10·x; blue = 7.
  const img = {
    width: 4,
    height: 1,
    data: Uint8Array.from([0, 0, 7, 100, 10, 7, 200, 20, 7, 250, 30, 7]),
  };

  it('copies pixels under the identity', () => {
    expect(Array.from(warpAffine(img, [1, 0, 0, 0, 1, 0], 4, 1))).toEqual(Array.from(img.data));
  });

  it('samples bilinearly halfway between pixels', () => {
    // Output x samples source x/2 … upscaling ×2: output 1 = source 0.5 → (0+100)/2 = 50.
    const out = warpAffine(img, [2, 0, 0, 0, 1, 0], 7, 1);
    expect(Array.from(out.filter((_, i) => i % 3 === 0))).toEqual([0, 50, 100, 150, 200, 225, 250]);
    expect(Array.from(out.filter((_, i) => i % 3 === 1))).toEqual([0, 5, 10, 15, 20, 25, 30]);
  });

  it('translates by a quarter pixel', () => {
    // output x = source x − 0.25 ⇒ output 0 samples source 0.25 → 25.
    const out = warpAffine(img, [1, 0, -0.25, 0, 1, 0], 3, 1);
    expect(Array.from(out.filter((_, i) => i % 3 === 0))).toEqual([25, 125, 213]);
  });

  it('fills outside the source with the border colour', () => {
    const out = warpAffine(img, [1, 0, 2, 0, 1, 0], 4, 1, [9, 8, 7]);
    expect(Array.from(out.slice(0, 6))).toEqual([9, 8, 7, 9, 8, 7]);
    expect(Array.from(out.slice(6, 9))).toEqual([0, 0, 7]);
  });
});

describe('alignedCropTransform', () => {
  it('puts the template keypoints into the central 60 % with the default margin', () => {
    const m = alignedCropTransform(ARCFACE_TEMPLATE, 512);
    // Template → 512 crop: scale 512·0.6/112, offset 0.2·512.
    const k = (512 * 0.6) / 112;
    expectAffine(m, [k, 0, 102.4, 0, k, 102.4]);
    const [lx, ly] = applyAffine(m, ARCFACE_TEMPLATE[0]!);
    expect(lx).toBeCloseTo(38.2946 * k + 102.4, 9);
    expect(ly).toBeCloseTo(51.6963 * k + 102.4, 9);
  });

  it('with margin 0 is the ArcFace crop scaled to size', () => {
    expectAffine(alignedCropTransform(ARCFACE_TEMPLATE, 224, 0), [2, 0, 0, 0, 2, 0]);
  });

  it('undoes a rotated, scaled face', () => {
    // A face at 3× template size rotated by 90°: the crop transform is the inverse rotation.
    const kps = ARCFACE_TEMPLATE.map(([x, y]): Point => [-3 * y + 400, 3 * x + 50]);
    const m = alignedCropTransform(kps, 112, 0);
    const back = kps.map((p) => applyAffine(m, p));
    back.forEach(([x, y], i) => {
      expect(x).toBeCloseTo(ARCFACE_TEMPLATE[i]![0], 9);
      expect(y).toBeCloseTo(ARCFACE_TEMPLATE[i]![1], 9);
    });
  });

  it('rejects a bad margin', () => {
    expect(() => alignedCropTransform(ARCFACE_TEMPLATE, 512, 0.5)).toThrow(/margin/);
  });
});

describe('warpAffineAntialiased', () => {
  // 64×64, red = 2·x + y (linear), green = 1-px stripes (255 on even columns).
  const w = 64, h = 64;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      data[(y * w + x) * 3] = Math.min(255, 2 * x + y);
      data[(y * w + x) * 3 + 1] = x % 2 === 0 ? 255 : 0;
    }
  }
  const img = { data, width: w, height: h };
  // Output pixel k samples source 4k + 1.5: the centre of the 4×4 block it stands for.
  const quarter: Affine = [0.25, 0, -0.375, 0, 0.25, -0.375];

  it('agrees with plain bilinear on a linear ramp (same geometry)', () => {
    const plain = warpAffine(img, quarter, 16, 16);
    const aa = warpAffineAntialiased(img, quarter, 16, 16);
    for (let i = 0; i < plain.length; i += 3) expect(Math.abs(aa[i]! - plain[i]!)).toBeLessThanOrEqual(1);
  });

  it('averages fine stripes instead of aliasing them', () => {
    const plain = warpAffine(img, quarter, 16, 16);
    const aa = warpAffineAntialiased(img, quarter, 16, 16);
    const greens = (buf: Uint8Array) => Array.from(buf.filter((_, i) => i % 3 === 1));
    // Sampling source 4k + 2 (even columns only), plain bilinear sees pure white stripes: aliasing.
    // Area averaging gives ~127.5 whatever the phase.
    const shifted: Affine = [0.25, 0, -0.5, 0, 0.25, -0.5];
    expect(new Set(greens(warpAffine(img, shifted, 15, 15)))).toEqual(new Set([255]));
    // (The shrunk region is a whole number of pixels, so its cells span slightly more or less than 4 stripes.)
    for (const v of greens(warpAffineAntialiased(img, shifted, 15, 15))) expect(Math.abs(v - 127.5)).toBeLessThanOrEqual(8);
    for (const v of greens(aa)) expect(Math.abs(v - 127.5)).toBeLessThanOrEqual(8);
    expect(plain.length).toBe(aa.length);
  });

  it('is warpAffine itself when not shrinking much', () => {
    const m: Affine = [0.9, 0.1, 3, -0.1, 0.9, 2];
    expect(Array.from(warpAffineAntialiased(img, m, 20, 20))).toEqual(Array.from(warpAffine(img, m, 20, 20)));
  });
});
