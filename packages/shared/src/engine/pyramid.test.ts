// Unit tests of the pyramid plan: coverage of face sizes, tile overlaps and run counts.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PYRAMID, DETECTOR_HEIGHT, DETECTOR_WIDTH, planPyramid, pyramidRuns } from './pyramid';

describe('planPyramid', () => {
  it('uses one letterboxed run for small images', () => {
    const plan = planPyramid(150, 150, 40);
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatchObject({ scale: 1.6, width: 240, height: 240, tiles: [{ x: 0, y: 0 }], minHeight: 0 });
  });

  it('caps the upscale of tiny images', () => {
    expect(planPyramid(60, 40, 40)[0]!.scale).toBe(DEFAULT_PYRAMID.maxUpscale);
  });

  it('adds a tiled finest level where minFaceSize reaches the smallest reliable detector size', () => {
    const plan = planPyramid(1500, 1000, 40);
    const finest = plan[plan.length - 1]!;
    const { minDetectorFace, minBoxAspect } = DEFAULT_PYRAMID;
    expect(finest.scale).toBeCloseTo(minDetectorFace / (40 * minBoxAspect), 12);
    expect(finest.minHeight).toBe(0);
    expect(pyramidRuns(plan)).toBeLessThanOrEqual(10);
  });

  it('covers every face height from minFaceSize up without gaps, and tiles overlap by more than the faces', () => {
    for (const [w, h] of [[2000, 1428], [6000, 4000], [970, 2204], [4000, 3000]] as const) {
      const plan = planPyramid(w, h, 40);
      // Source face heights each level accepts: [minHeight, maxHeight) / scale.
      const ranges = plan.map((l) => [l.minHeight / l.scale, l.maxHeight / l.scale] as const).sort((a, b) => a[0] - b[0]);
      expect(ranges[0]![0]).toBe(0);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeLessThan(ranges[i - 1]![1]);
      expect(ranges[ranges.length - 1]![1]).toBe(Infinity);
      for (const level of plan.filter((l) => l.tiled)) {
        const xs = [...new Set(level.tiles.map((t) => t.x))].sort((a, b) => a - b);
        const ys = [...new Set(level.tiles.map((t) => t.y))].sort((a, b) => a - b);
        for (let i = 1; i < xs.length; i++) expect(xs[i - 1]! + DETECTOR_WIDTH - xs[i]!).toBeGreaterThan(level.maxHeight);
        for (let i = 1; i < ys.length; i++) expect(ys[i - 1]! + DETECTOR_HEIGHT - ys[i]!).toBeGreaterThan(level.maxHeight);
        // Tiles cover the level image.
        expect(xs[xs.length - 1]! + DETECTOR_WIDTH).toBeGreaterThanOrEqual(level.width);
        expect(ys[ys.length - 1]! + DETECTOR_HEIGHT).toBeGreaterThanOrEqual(level.height);
      }
    }
  });
});
