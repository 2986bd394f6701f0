import { describe, expect, it } from 'vitest';
import type { Box } from '../engine/types';
import { boxesMatch, identityCentroid, iou, matchMembers, routeFaces } from './coverage';

const at = (deg: number): Float32Array => Float32Array.of(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180));

describe('coverage', () => {
  it('matches boxes within 1 px or at IoU ≥ 0.9', () => {
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150);
    expect(boxesMatch([100, 100, 200, 200], [101, 99, 200.5, 201])).toBe(true); // max diff 1
    expect(boxesMatch([100, 100, 200, 200], [102, 102, 202, 202])).toBe(true); // IoU 0.922
    expect(boxesMatch([100, 100, 200, 200], [106, 100, 206, 200])).toBe(false); // IoU 0.887
    expect(boxesMatch([0, 0, 10, 10], [2, 0, 12, 10])).toBe(false); // small face: 2 px is IoU 0.67
  });

  it('matches each member to the best same-source face record', () => {
    const faces = [
      { sha256: 'a', faceIndex: 0, box: [0, 0, 100, 100] as Box },
      { sha256: 'a', faceIndex: 1, box: [300, 0, 400, 100] as Box },
      { sha256: 'b', faceIndex: 0, box: [300, 0, 400, 100] as Box },
    ];
    const got = matchMembers(
      [
        { sha256: 'a', box: [300.4, 0.2, 400, 100] },
        { sha256: 'b', box: [0, 0, 100, 100] },
        { sha256: 'c', box: [0, 0, 1, 1] },
      ],
      faces,
    );
    expect(got).toEqual([faces[1], undefined, undefined]);
  });

  it('routes each face to the nearest centroid within the threshold', () => {
    const c = identityCentroid([{ embedding: at(0) }, undefined, { embedding: at(20) }]);
    expect(Array.from(c!)).toEqual([expect.closeTo(Math.cos(Math.PI / 18), 6), expect.closeTo(Math.sin(Math.PI / 18), 6)]);
    expect(identityCentroid([undefined])).toBeNull();
    const routes = routeFaces([{ embedding: at(10) }, { embedding: at(50) }, { embedding: at(170) }], [c, null, at(60)], 0.45);
    expect(routes.map((r) => r.identity)).toEqual([0, 2, -1]);
    expect(routes[1]!.distance).toBeCloseTo(1 - Math.cos(Math.PI / 18), 6);
  });
});
