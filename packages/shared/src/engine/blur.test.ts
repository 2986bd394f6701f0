// Unit tests of the Laplacian variance (OpenCV ksize=1, BORDER_REFLECT_101) and the fixed-size blur measure, by hand.
import { describe, expect, it } from 'vitest';
import { shrinkGrayLanczos3 } from '../image/resample';
import { faceBlur, laplacianVariance } from './blur';
import type { RgbImage } from './types';

describe('laplacianVariance', () => {
  it('is 0 on a flat image', () => {
    expect(laplacianVariance(new Uint8Array(9).fill(77), 3, 3)).toBe(0);
  });

  it('matches a hand-computed 3×3 with one bright centre', () => {
    // Centre 9, rest 0. Laplacian: centre −36; its 4 neighbours +9 each; with REFLECT_101 a border pixel's
    // missing neighbour mirrors onto the opposite neighbour, so the edge midpoints see the centre twice: +18;
    // corners see no centre: 0. Values: −36, 4×18, 4×0 → mean 4, E[v²] = (1296 + 4·324)/9 = 288, var 272.
    const g = [0, 0, 0, 0, 9, 0, 0, 0, 0];
    expect(laplacianVariance(g, 3, 3)).toBeCloseTo(272, 10);
  });

  it('matches a hand-computed 1-D ramp', () => {
    // Row 0, 1, 4 (1×3): vertical neighbours reflect onto the pixel itself (height 1), so only x counts.
    // x0: left reflects to x1: 1 + 1 − 0 = 2 … Laplacian = 2·x1 − 2·x0 = 2; x1: 0 + 4 − 2 = 2; x2: 1 + 1 − 8 = −6.
    // mean −2/3, E[v²] = (4 + 4 + 36)/3 = 44/3, var = 44/3 − 4/9 = 128/9.
    expect(laplacianVariance([0, 1, 4], 3, 1)).toBeCloseTo(128 / 9, 10);
  });

  it('measures a checkerboard as very sharp', () => {
    const g = Array.from({ length: 16 }, (_, i) => (((i % 4) + Math.floor(i / 4)) % 2) * 100);
    // Each pixel: 4 neighbours of the other colour: ±400, so mean 0 and variance 160000.
    expect(laplacianVariance(g, 4, 4)).toBeCloseTo(160000, 6);
  });
});

describe('faceBlur', () => {
  it('converts to gray like OpenCV and clips the box to the image', () => {
    // 3×3 RGB, centre pure green 255 → gray round(0.587·255) = 150; box runs past the image.
    const data = new Uint8Array(27);
    data[4 * 3 + 1] = 255;
    const v = faceBlur({ data, width: 3, height: 3 }, [-5, -5, 10, 10]);
    // Same pattern as the hand-computed 3×3 above, scaled by 150/9.
    expect(v).toBeCloseTo(272 * (150 / 9) ** 2, 6);
  });

  it('is 0 for a box outside the image', () => {
    expect(faceBlur({ data: new Uint8Array(27), width: 3, height: 3 }, [5, 5, 9, 9])).toBe(0);
  });
});

describe('faceBlur at a fixed size', () => {
  /** A w×h RGB image of vertical stripes of period 2 (0, 200, 0, 200, …): every pixel ±400 horizontally. */
  function stripes(w: number, h: number, period = 2): RgbImage {
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.fill(Math.floor(x / (period / 2)) % 2 ? 200 : 0, (y * w + x) * 3, (y * w + x) * 3 + 3);
    return { data, width: w, height: h };
  }

  it('measures a box smaller than 112 px as it is (never enlarged)', () => {
    const img = stripes(50, 60);
    // Gray of (200, 200, 200) is 200, so the score is laplacianVariance of the box's own pixels.
    const gray = new Uint8Array(50 * 60);
    for (let i = 0; i < gray.length; i++) gray[i] = img.data[i * 3]!;
    expect(faceBlur(img, [0, 0, 50, 60])).toBeCloseTo(laplacianVariance(gray, 50, 60), 8);
  });

  it('gives one score to the same pattern drawn at two sizes, once both exceed 112 px', () => {
    // Stripes of period 16 px at 448 px and of period 32 px at 896 px are the same picture at two sizes: both
    // shrink to 112 px with period 4, so the scores agree (to resampling round-off), unlike at source size.
    const a = faceBlur(stripes(448, 448, 16), [0, 0, 448, 448]);
    const b = faceBlur(stripes(896, 896, 32), [0, 0, 896, 896]);
    expect(a).toBeGreaterThan(1000);
    expect(Math.abs(a / b - 1)).toBeLessThan(0.05);
  });
});

describe('shrinkGrayLanczos3', () => {
  it('keeps a flat image flat and averages a 2:1 step to its midpoint at the edge', () => {
    expect([...shrinkGrayLanczos3(new Uint8Array(64).fill(90), 8, 8, 4, 4)]).toEqual(new Array(16).fill(90));
    // 1-D: 0 0 0 0 | 100 100 100 100 shrunk to 4 samples is symmetric around the step: out[1] + out[2] = 100.
    const out = shrinkGrayLanczos3([0, 0, 0, 0, 100, 100, 100, 100], 8, 1, 4, 1);
    expect(out[1]! + out[2]!).toBeCloseTo(100, 0);
    expect(out[0]).toBeLessThan(5);
  });

  it('refuses to enlarge', () => {
    expect(() => shrinkGrayLanczos3([1, 2], 2, 1, 3, 1)).toThrow(/cannot shrink/);
  });
});
