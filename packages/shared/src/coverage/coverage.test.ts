import { describe, expect, it } from 'vitest';
import type { Box } from '../engine/types';
import { boxesMatch, iou, matchMembers, routeWithDecisions } from './coverage';

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
});

describe('routing that honours decisions', () => {
  const unit = (x: number, y: number) => {
    const v = new Float32Array(3);
    const n = Math.hypot(x, y);
    v[0] = x / n;
    v[1] = y / n;
    return v;
  };
  // Two identities at (1,0) and (0,1); a face at 30° from A is 1 − cos 30° = 0.134 from A, 1 − cos 60° = 0.5 from B.
  const A = { centroid: unit(1, 0), rejected: new Set<string>() };
  const B = { centroid: unit(0, 1), rejected: new Set<string>() };
  const face = (sha: string, x: number, y: number) => ({ sha256: sha, faceIndex: 0, embedding: unit(x, y) });
  const f30 = face('f', Math.cos(Math.PI / 6), Math.sin(Math.PI / 6));

  it('routes to the nearest centroid, and past an identity that rejected the face', () => {
    expect(routeWithDecisions([f30], [A, B], new Map(), new Set(), 0.55)[0]).toMatchObject({ identity: 0, member: false });
    const rejectedByA = { ...A, rejected: new Set(['f:0']) };
    const r = routeWithDecisions([f30], [rejectedByA, B], new Map(), new Set(['f:0']), 0.55)[0]!;
    expect(r.identity).toBe(1);
    expect(r.distance).toBeCloseTo(0.5, 6);
    // Beyond the threshold it is routed nowhere, and held from discovery because a person rejected it.
    expect(routeWithDecisions([f30], [rejectedByA, B], new Map(), new Set(['f:0']), 0.45)[0]).toMatchObject({ identity: -1, held: true });
  });

  it('keeps a member with its identity even when another centroid is nearer (an assigned face stays pinned)', () => {
    const r = routeWithDecisions([f30], [A, B], new Map([['f:0', 1]]), new Set(), 0.45)[0]!;
    expect(r).toMatchObject({ identity: 1, member: true, held: false });
  });
});
