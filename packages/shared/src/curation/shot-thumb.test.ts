import { describe, expect, it } from 'vitest';
import { shotSimilarity } from './shot-thumb';

describe('shotSimilarity', () => {
  const ramp = Uint8Array.from({ length: 16 }, (_, i) => i * 10);
  it('is 1 for a brightened, contrast-stretched copy and −1 for the negative', () => {
    expect(shotSimilarity(ramp, Uint8Array.from(ramp, (v) => v * 1.5 + 8))).toBeCloseTo(1, 6);
    expect(shotSimilarity(ramp, Uint8Array.from(ramp, (v) => 255 - v))).toBeCloseTo(-1, 6);
  });
  it('hand-checked: [0,0,10,10] against [0,10,0,10] is 0, a flat thumbnail 0', () => {
    expect(shotSimilarity(Uint8Array.from([0, 0, 10, 10]), Uint8Array.from([0, 10, 0, 10]))).toBe(0);
    expect(shotSimilarity(Uint8Array.from([5, 5, 5, 5]), Uint8Array.from([0, 10, 0, 10]))).toBe(0);
  });
  it('refuses thumbnails of different sizes', () => {
    expect(() => shotSimilarity(new Uint8Array(4), new Uint8Array(5))).toThrow(/4 and 5/);
  });
});
