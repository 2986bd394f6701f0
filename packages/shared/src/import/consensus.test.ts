import { describe, expect, it } from 'vitest';
import { selectFolderFaces, type FolderPhoto } from './consensus';

// 3-d unit vectors stand in for embeddings: A is the folder's person, B/C/D are strangers.
const v = (...x: number[]) => ({ embedding: Float32Array.from(x) });
const A = v(1, 0, 0);
const B = v(0, 1, 0), C = v(0, 0, 1), D = v(0, -1, 0);
const photo = (path: string, ...faces: { embedding: Float32Array }[]): FolderPhoto<{ embedding: Float32Array }> => ({ id: path, path, faces });

describe('selectFolderFaces', () => {
  it('builds the consensus from single-face photos, takes the agreeing face of a group photo, leaves the wrong photo out', () => {
    const sel = selectFolderFaces(
      [
        photo('1.jpg', A),
        photo('2.jpg', A),
        photo('3.jpg', A),
        // The stranger is listed (and would be) first: larger, more confident.
        photo('group.jpg', B, v(0.8, 0.6, 0)),
        photo('wrong.jpg', v(0, 0.6, 0.8)),
      ],
      0.55,
    );
    expect(sel.basis).toBe('single-face photos');
    expect(sel.taken.map((t) => [t.path, t.among])).toEqual([['1.jpg', 1], ['2.jpg', 1], ['3.jpg', 1], ['group.jpg', 2]]);
    expect(sel.taken[3]!.face.embedding[0]).toBeCloseTo(0.8);
    // Seed centroid (1,0,0); rebuilt from the four taken faces: normalize(3.8, 0.6, 0) = (0.98776, 0.15596, 0).
    expect(sel.centroid![0]).toBeCloseTo(0.98776, 4);
    expect(sel.centroid![1]).toBeCloseTo(0.15596, 4);
    expect(sel.taken[0]!.distance).toBeCloseTo(0.01224, 4); // 1 − 0.98776
    expect(sel.taken[3]!.distance).toBeCloseTo(0.11621, 4); // 1 − (0.8·0.98776 + 0.6·0.15596)
    expect(sel.leftOut).toHaveLength(1);
    expect(sel.leftOut[0]).toMatchObject({ path: 'wrong.jpg', reason: 'disagrees', faces: 1 });
    expect(sel.leftOut[0]!.distance).toBeCloseTo(0.90642, 4); // 1 − 0.6·0.15596
  });

  it('falls back to all photos when fewer than two single-face photos agree: the face in the most photos wins', () => {
    // One portrait of A; two group photos with A and the same stranger B. A spans 3 photos, B only 2.
    const sel = selectFolderFaces([photo('a.jpg', A), photo('g1.jpg', B, A), photo('g2.jpg', A, B)], 0.55);
    expect(sel.basis).toBe('all photos');
    expect(sel.taken.map((t) => t.face === A)).toEqual([true, true, true]);
    expect(sel.leftOut).toEqual([]);
  });

  it('with no portraits at all, the person in every group photo beats strangers who appear once each', () => {
    const sel = selectFolderFaces([photo('g1.jpg', B, A), photo('g2.jpg', C, A), photo('g3.jpg', A, D)], 0.55);
    expect(sel.basis).toBe('all photos');
    expect(sel.taken.map((t) => [t.path, t.face === A, t.distance])).toEqual([
      ['g1.jpg', true, 0],
      ['g2.jpg', true, 0],
      ['g3.jpg', true, 0],
    ]);
  });

  it('a tie between two single-face photos is settled by the group photos', () => {
    // Portraits of A and of B disagree (1 vs 1); the group photo holds A again, so A spans 2 photos.
    const sel = selectFolderFaces([photo('a.jpg', A), photo('b.jpg', B), photo('g.jpg', C, A)], 0.55);
    expect(sel.basis).toBe('all photos');
    expect(sel.taken.map((t) => t.path)).toEqual(['a.jpg', 'g.jpg']);
    expect(sel.leftOut).toMatchObject([{ path: 'b.jpg', reason: 'disagrees', distance: 1 }]);
  });

  it('two photos that disagree give no consensus; a photo without faces is named as such', () => {
    const sel = selectFolderFaces([photo('x.jpg', A), photo('y.jpg', B), photo('blank.png')], 0.55);
    expect(sel.basis).toBeNull();
    expect(sel.taken).toEqual([]);
    expect(sel.leftOut.map((l) => [l.path, l.reason])).toEqual([
      ['blank.png', 'no face'],
      ['x.jpg', 'no consensus'],
      ['y.jpg', 'no consensus'],
    ]);
  });

  it('a folder of one portrait takes it; a folder of one group photo cannot tell who is meant', () => {
    expect(selectFolderFaces([photo('only.jpg', A)], 0.55).taken.map((t) => t.path)).toEqual(['only.jpg']);
    const group = selectFolderFaces([photo('only.jpg', A, B)], 0.55);
    expect(group.basis).toBeNull();
    expect(group.leftOut).toMatchObject([{ path: 'only.jpg', reason: 'no consensus', faces: 2 }]);
  });
});
