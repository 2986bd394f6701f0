import { describe, expect, it } from 'vitest';
import { curate, type CurationMember } from './curate';
import { faceSize, groupShots, mirrored, sameShot, sameShotEither, shotEvidence } from './duplicates';
import { poseBin, selectBest } from './select';

/** A unit embedding at angle θ in the first two dimensions: cosine distance 1 − cos Δθ between two of them. */
const emb = (theta: number): Float32Array => Float32Array.from([Math.cos(theta), Math.sin(theta), 0, 0]);
/** A thumbnail: a ramp, optionally with noise from a seed (a different picture). */
const thumb = (seed = 0): Uint8Array => Uint8Array.from({ length: 64 }, (_, i) => 1 + ((i * 3 + (seed ? (i * i * seed) % 97 : 0)) % 250));
const pose = (yaw: number, pitch = 0) => ({ yaw, pitch, roll: 0 });

function member(key: string, o: Partial<CurationMember> & { theta?: number; seed?: number; yaw?: number; pitch?: number } = {}): CurationMember {
  const p = pose(o.yaw ?? 0, o.pitch ?? 0);
  return {
    key, sha256: key, faceIndex: 0, png: `${key}.png`, faceShort: o.faceShort ?? 200, size: o.size ?? o.faceShort ?? 200, blur: o.blur ?? 100, pose: p, pinned: o.pinned ?? false,
    evidence: { embedding: emb(o.theta ?? 0), shot: thumb(o.seed ?? 0), pose: p },
  };
}

describe('near-duplicate shots', () => {
  it('needs all three: close embeddings, alike thumbnails, the same yaw and pitch', () => {
    const a = { embedding: emb(0), shot: thumb(), pose: pose(0) };
    expect(sameShot(shotEvidence(a, { ...a, embedding: emb(0.3) }))).toBe(true); // 1 − cos 0.3 = 0.045
    expect(sameShot(shotEvidence(a, { ...a, embedding: emb(0.5) }))).toBe(false); // 0.12 > 0.1
    expect(sameShot(shotEvidence(a, { ...a, shot: thumb(5) }))).toBe(false);
    expect(sameShot(shotEvidence(a, { ...a, pose: pose(9) }))).toBe(false);
    expect(sameShot(shotEvidence(a, { ...a, pose: { yaw: 0, pitch: 0, roll: 20 } }))).toBe(true); // a tilted copy
  });

  it('a mirrored copy is the same shot: thumbnail flipped, yaw and roll negated', () => {
    const a = { embedding: emb(0), shot: thumb(3), pose: { yaw: 20, pitch: 5, roll: 4 } };
    const flip = mirrored(a);
    expect(mirrored(flip)).toEqual(a);
    expect(flip.pose).toEqual({ yaw: -20, pitch: 5, roll: -4 });
    // 8×8 thumbnail: pixel (x, y) of the flip is pixel (7 − x, y) of the original.
    expect(flip.shot[0]).toBe(a.shot[7]);
    expect(sameShot(shotEvidence(a, flip))).toBe(false);
    expect(sameShotEither(a, flip)).toBe(true);
    expect(sameShotEither(a, { ...flip, pose: { yaw: 20, pitch: 5, roll: 4 } })).toBe(false);
  });

  it('groups connected pairs, never two faces of one photo, best face first', () => {
    const faces = [
      { key: 'a', sha256: 'a', size: 100, blur: 50, evidence: { embedding: emb(0), shot: thumb(), pose: pose(0) } },
      { key: 'b', sha256: 'b', size: 300, blur: 50, evidence: { embedding: emb(0.2), shot: thumb(), pose: pose(0) } },
      { key: 'c', sha256: 'b', size: 300, blur: 90, evidence: { embedding: emb(0.1), shot: thumb(), pose: pose(0) } },
      { key: 'd', sha256: 'd', size: 300, blur: 90 },
    ];
    // b and c share a photo: not one shot, but both join a.
    expect(groupShots(faces).map((g) => g.map((f) => f.key))).toEqual([['c', 'b', 'a'], ['d']]);
  });
});

describe('curate', () => {
  it('sizes faces by their keypoints, so a tilt does not make a face larger', () => {
    const kps: [number, number][] = [[0, 0], [10, 0], [5, 5], [0, 10], [10, 10]];
    const t = Math.PI / 12;
    const tilted = kps.map(([x, y]): [number, number] => [x * Math.cos(t) - y * Math.sin(t) + 50, x * Math.sin(t) + y * Math.cos(t)]);
    expect(faceSize(kps, 99)).toBeCloseTo(Math.sqrt(40), 9); // four corners at √50 from the centre (5, 5), one on it: √(200 / 5)
    expect(faceSize(tilted, 99)).toBeCloseTo(faceSize(kps, 99), 9);
    expect(faceSize(undefined, 99)).toBe(99);
  });

  it('within 5 % of the largest, the sharpest face of a shot is kept', () => {
    const c = curate([member('big', { size: 200, blur: 30 }), member('sharp', { size: 192, blur: 90, theta: 0.1 }), member('small', { size: 150, blur: 300, theta: 0.2 })], { dedupe: true });
    expect([...c.exported]).toEqual(['sharp']);
  });

  it('keeps the largest, then the sharpest face of a shot; the others are left as its near-duplicates', () => {
    const members = [member('small', { faceShort: 150 }), member('big', { faceShort: 300, blur: 20 }), member('big-sharp', { faceShort: 300, blur: 80, theta: 0.1 }), member('other', { seed: 7, theta: 1 })];
    const c = curate(members, { dedupe: true });
    expect([...c.exported].sort()).toEqual(['big-sharp', 'other']);
    expect(c.left).toEqual([
      { key: 'small', sha256: 'small', faceIndex: 0, reason: 'near-duplicate of big-sharp.png', duplicateOf: 'big-sharp' },
      { key: 'big', sha256: 'big', faceIndex: 0, reason: 'near-duplicate of big-sharp.png', duplicateOf: 'big-sharp' },
    ]);
    expect(curate(members, { dedupe: false }).exported.size).toBe(4);
  });

  it('an assigned face is exported even as a duplicate, and keeps its shot', () => {
    const c = curate([member('big', { faceShort: 300 }), member('mine', { faceShort: 100, pinned: true })], { dedupe: true });
    expect([...c.exported]).toEqual(['mine']);
    expect(c.left[0]).toMatchObject({ key: 'big', duplicateOf: 'mine' });
  });

  it('maxFaces covers the poses first: three faces of three poses, not the three sharpest frontal ones', () => {
    const members = [
      member('f1', { blur: 300, seed: 1, theta: 1 }), member('f2', { blur: 290, seed: 2, theta: 2 }), member('f3', { blur: 280, seed: 3, theta: 3 }),
      member('left30', { yaw: -30, blur: 50, seed: 4, theta: 4 }), member('up20', { pitch: 20, blur: 40, seed: 5, theta: 5 }),
    ];
    const c = curate(members, { dedupe: true, maxFaces: 3 });
    expect([...c.exported].sort()).toEqual(['f1', 'left30', 'up20']);
    expect(c.left.map((l) => [l.key, l.reason])).toEqual([['f2', 'maxFaces'], ['f3', 'maxFaces']]);
  });
});

describe('selectBest', () => {
  it('bins yaw and pitch by 15° around 0 (±7.5° is frontal)', () => {
    expect(poseBin(pose(7))).toBe('0,0');
    expect(poseBin(pose(8, -8))).toBe('1,-1');
    expect(poseBin(undefined)).toBe('?');
  });
  it('pinned faces count towards N and their bin is covered', () => {
    const faces = [
      { key: 'p', faceShort: 1, blur: 1, pose: pose(0), pinned: true },
      { key: 'a', faceShort: 1, blur: 99, pose: pose(0) },
      { key: 'b', faceShort: 1, blur: 10, pose: pose(45) },
    ];
    expect([...selectBest(faces, 2)].sort()).toEqual(['b', 'p']);
    expect([...selectBest(faces, 1)]).toEqual(['p']);
  });
});
