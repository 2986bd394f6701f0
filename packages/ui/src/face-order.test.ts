import { describe, expect, it } from 'vitest';
import type { IdentityFace } from './api-types';
import { foldDuplicates, poseLabel, sortFaces } from './face-order';

const face = (id: string, o: Partial<IdentityFace> = {}): IdentityFace => ({
  id, file: `${id}.png`, png: `${id}.png`, sources: [`/b/${id}.jpg`], sha256: id, faceIndex: 0, box: [0, 0, 1, 1], detScore: 0.9, faceShort: 100, blur: 50,
  pose: { yaw: 0, pitch: 0, roll: 0 }, distance: 0.1, exported: true, left: null, origin: 'discovered', thumb: `/faces/${id}/thumb`, ...o,
});

describe('identity page face order', () => {
  const faces = [
    face('a', { pose: { yaw: 20, pitch: -5, roll: 0 }, blur: 10, faceShort: 300 }),
    face('b', { pose: null, blur: 90, faceShort: 120 }),
    face('c', { pose: { yaw: -30, pitch: 10, roll: 0 }, blur: 40, faceShort: 200 }),
  ];
  it('orders by yaw and pitch (left/down first, unmeasured last), by sharpness and size (largest first)', () => {
    expect(sortFaces(faces, 'yaw').map((f) => f.id)).toEqual(['c', 'a', 'b']);
    expect(sortFaces(faces, 'pitch').map((f) => f.id)).toEqual(['a', 'c', 'b']);
    expect(sortFaces(faces, 'sharpness').map((f) => f.id)).toEqual(['b', 'c', 'a']);
    expect(sortFaces(faces, 'size').map((f) => f.id)).toEqual(['a', 'c', 'b']);
    expect(sortFaces(faces, 'listed').map((f) => f.id)).toEqual(['a', 'b', 'c']);
  });
  it('folds near-duplicates under the face kept for their shot; a maxFaces left-out face keeps its place', () => {
    const list = [
      face('d1', { exported: false, left: { reason: 'near-duplicate of k.png', duplicateOf: 'k' } }),
      face('k'),
      face('m', { exported: false, left: { reason: 'maxFaces', duplicateOf: null } }),
      face('d2', { exported: false, left: { reason: 'near-duplicate of k.png', duplicateOf: 'k' } }),
    ];
    expect(foldDuplicates(list).map((g) => [g.face.id, g.duplicates.map((d) => d.id)])).toEqual([['k', ['d1', 'd2']], ['m', []]]);
  });
  it('labels a pose in whole degrees', () => {
    expect(poseLabel(face('x', { pose: { yaw: 12.4, pitch: -3.6, roll: 1 } }))).toBe('yaw 12° · pitch −4°');
    expect(poseLabel(face('x', { pose: null }))).toBe('pose unknown');
  });
});
