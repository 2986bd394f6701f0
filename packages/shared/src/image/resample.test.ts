// Unit tests of the JS resampler and the gray crop.
import { describe, expect, it } from 'vitest';
import { cropSquareGray, grayValue, resizeRgbJs } from './resample';

const rgb = (values: number[]): Uint8Array => Uint8Array.from(values.flatMap((v) => [v, v, v]));

describe('resizeRgbJs', () => {
  it('averages areas when halving', () => {
    // 4×1 → 2×1: (0+100)/2, (200+250)/2.
    const out = resizeRgbJs({ data: rgb([0, 100, 200, 250]), width: 4, height: 1 }, 2, 1);
    expect(Array.from(out.data.filter((_, i) => i % 3 === 0))).toEqual([50, 225]);
  });

  it('interpolates linearly when doubling (pixel centres aligned)', () => {
    // 2×1 → 4×1: output centres at input x −0.25, 0.25, 0.75, 1.25 → clamped 0, 25, 75, 100.
    const out = resizeRgbJs({ data: rgb([0, 100]), width: 2, height: 1 }, 4, 1);
    expect(Array.from(out.data.filter((_, i) => i % 3 === 0))).toEqual([0, 25, 75, 100]);
  });
});

describe('grayValue', () => {
  it('matches OpenCV cvtColor', () => {
    expect(grayValue(255, 0, 0)).toBe(76);
    expect(grayValue(0, 255, 0)).toBe(150);
    expect(grayValue(0, 0, 255)).toBe(29);
    expect(grayValue(255, 255, 255)).toBe(255);
  });
});

describe('cropSquareGray', () => {
  it('averages 2×2 blocks when shrinking by 2 and repeats edges outside', () => {
    const img = { data: rgb([0, 40, 80, 120, 160, 200, 240, 250, 10, 20, 30, 40, 50, 60, 70, 80]), width: 4, height: 4 };
    // Blocks: (0,40,160,200) → 100, (80,120,240,250) → 172.5, (10,20,50,60) → 35, (30,40,70,80) → 55.
    const out = cropSquareGray(img, 0, 0, 4, 2);
    expect(Array.from(out)).toEqual([100, 172.5, 35, 55].map((v) => expect.closeTo(v, 4)));
    const edge = cropSquareGray(img, -10, -10, 2, 1);
    expect(Math.round(edge[0]!)).toBe(0);
  });
});
