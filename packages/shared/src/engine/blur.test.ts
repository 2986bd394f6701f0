// Unit tests of the Laplacian variance against values computed by hand (OpenCV ksize=1, BORDER_REFLECT_101).
import { describe, expect, it } from 'vitest';
import { faceBlur, laplacianVariance } from './blur';

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
