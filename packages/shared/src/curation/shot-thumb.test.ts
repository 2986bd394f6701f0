import { describe, expect, it } from 'vitest';
import { shotSimilarity } from './shot-thumb';

describe('shotSimilarity', () => {
  const ramp = Uint8Array.from({ length: 16 }, (_, i) => 1 + i * 10);
  it('is 1 for a brightened, contrast-stretched copy and −1 for the negative', () => {
    expect(shotSimilarity(ramp, Uint8Array.from(ramp, (v) => v * 1.5 + 8))).toBeCloseTo(1, 6);
    expect(shotSimilarity(ramp, Uint8Array.from(ramp, (v) => 255 - v))).toBeCloseTo(-1, 6);
  });
  it('compares only the pixels both show (0 = outside the photo), and needs enough of them', () => {
    // The copy lost its first 4 pixels to a crop and the rest is brightened: still the same picture.
    const cropped = Uint8Array.from(ramp, (v, i) => (i < 4 ? 0 : v + 20));
    expect(shotSimilarity(ramp, cropped, 8)).toBeCloseTo(1, 6);
    expect(shotSimilarity(ramp, Uint8Array.from(ramp, (v, i) => (i < 10 ? 0 : v)), 8)).toBe(0);
  });
  it('hand-checked: [1,1,11,11] against [1,11,1,11] is 0, a flat thumbnail 0', () => {
    expect(shotSimilarity(Uint8Array.from([1, 1, 11, 11]), Uint8Array.from([1, 11, 1, 11]))).toBe(0);
    expect(shotSimilarity(Uint8Array.from([5, 5, 5, 5]), Uint8Array.from([1, 11, 1, 11]))).toBe(0);
  });
  it('refuses thumbnails of different sizes', () => {
    expect(() => shotSimilarity(new Uint8Array(4), new Uint8Array(5))).toThrow(/4 and 5/);
  });
});
