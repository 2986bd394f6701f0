import { describe, expect, it } from 'vitest';
import { rejectOutliers } from './outliers';

const at = (deg: number): Float32Array => Float32Array.of(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180));

describe('rejectOutliers', () => {
  it('drops the farthest face, recomputes the centroid and repeats', () => {
    // Four faces near 0° and two far ones at 90° and 100°. Centroid of all six sits at ~31°: the 100° face is
    // 1 − cos 69° = 0.64 away and goes first; the next centroid (~20°) leaves 90° at 1 − cos 70° = 0.66: it goes too.
    const v = [at(-2), at(0), at(1), at(3), at(90), at(100)];
    const r = rejectOutliers(v, 0.55);
    expect(r.dropped).toEqual([5, 4]);
    expect(r.kept).toEqual([0, 1, 2, 3]);
    expect(r.distances.every((d) => d < 0.01)).toBe(true);
    expect(r.centroid![0]).toBeCloseTo(Math.cos((0.5 * Math.PI) / 180), 4);
  });

  it('stops at the threshold (a face exactly at it stays)', () => {
    // Three faces at 0° and one at 60°: the sum (3.5, 0.866) points at 13.9°, so the 60° face is 1 − cos 46.1° = 0.307 away.
    const v = [at(0), at(0), at(0), at(60)];
    expect(rejectOutliers(v, 0.31).dropped).toEqual([]);
    expect(rejectOutliers(v, 0.30).dropped).toEqual([3]);
  });

  it('leaves sets below the minimum size alone and stops when one shrinks below it', () => {
    expect(rejectOutliers([at(0), at(0), at(120)], 0.1).dropped).toEqual([]);
    // 4 faces: one drop brings it to 3 and the loop stops although 100° is still far from the centroid.
    const r = rejectOutliers([at(0), at(5), at(100), at(160)], 0.3);
    expect(r.dropped).toEqual([3]);
    expect(r.kept).toEqual([0, 1, 2]);
  });

  it('handles an empty set', () => {
    expect(rejectOutliers([], 0.5)).toEqual({ kept: [], dropped: [], centroid: null, distances: [] });
  });
});
