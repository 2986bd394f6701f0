// Unit tests of IoU and non-maximum suppression.
import { describe, expect, it } from 'vitest';
import { iou, nms } from './nms';

describe('iou', () => {
  it('is 1 for equal boxes, 0 for disjoint, 1/3 for half-shifted squares', () => {
    expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(iou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(1 / 3, 12);
  });
});

describe('nms', () => {
  it('keeps the best of an overlapping group and separate faces', () => {
    const kept = nms([
      { box: [0, 0, 10, 10], score: 0.8 },
      { box: [1, 1, 11, 11], score: 0.9 },
      { box: [50, 50, 60, 60], score: 0.7 },
    ]);
    expect(kept.map((k) => k.score)).toEqual([0.9, 0.7]);
  });

  it('drops a box mostly inside a better one even at low IoU', () => {
    const kept = nms([
      { box: [0, 0, 100, 100], score: 0.99 },
      { box: [10, 10, 40, 40], score: 0.6 },
    ]);
    expect(kept).toHaveLength(1);
  });
});
