import { describe, expect, it } from 'vitest';
import type { Point } from '../engine/types';
import { estimatePose, MEAN_FACE_3D, MIRROR_68, projectMeanFace, type Pose } from './pose';

const near = (got: Pose, want: Pose, tol: number): void => {
  expect(Math.abs(got.yaw - want.yaw), `yaw of ${JSON.stringify(want)}: ${got.yaw}`).toBeLessThan(tol);
  expect(Math.abs(got.pitch - want.pitch), `pitch of ${JSON.stringify(want)}: ${got.pitch}`).toBeLessThan(tol);
  expect(Math.abs(got.roll - want.roll), `roll of ${JSON.stringify(want)}: ${got.roll}`).toBeLessThan(tol);
};

/** A horizontal mirror of a face's landmarks: x → −x, points renumbered (the model calls image-left point 0). */
const mirror = (pts: Point[]): Point[] => pts.map((_, i) => [-pts[MIRROR_68[i]!]![0], pts[MIRROR_68[i]!]![1]]);

describe('estimatePose', () => {
  it('recovers every pose the mean face is projected at: yaw ±60, pitch ±30, roll ±45 (within 2°)', () => {
    for (const yaw of [-60, -30, 0, 30, 60]) {
      for (const pitch of [-30, 0, 30]) {
        for (const roll of [-45, 0, 45]) near(estimatePose(projectMeanFace({ yaw, pitch, roll })), { yaw, pitch, roll }, 2);
      }
    }
  });

  it('a frontal mean face is 0, 0, 0 whatever its scale and position', () => {
    const pts = projectMeanFace({ yaw: 0, pitch: 0, roll: 0 }).map(([x, y]): Point => [x * 0.07 + 5, y * 0.07 - 3]);
    near(estimatePose(pts), { yaw: 0, pitch: 0, roll: 0 }, 0.01);
  });

  it('signs: nose to the image right is yaw > 0, looking up is pitch > 0, clockwise is roll > 0', () => {
    const right = projectMeanFace({ yaw: 20, pitch: 0, roll: 0 });
    expect(right[30]![0]).toBeGreaterThan((right[0]![0] + right[16]![0]) / 2); // nose tip right of the jaw's middle
    const up = projectMeanFace({ yaw: 0, pitch: 20, roll: 0 });
    const level = projectMeanFace({ yaw: 0, pitch: 0, roll: 0 });
    // Looking up: the nose tip rises towards the eyes (image y is down).
    expect(up[30]![1] - up[39]![1]).toBeLessThan(level[30]![1] - level[39]![1]);
    const cw = projectMeanFace({ yaw: 0, pitch: 0, roll: 20 });
    expect(cw[45]![1]).toBeGreaterThan(cw[36]![1]); // image-right eye lower: turned clockwise
  });

  it('a mirror flips yaw and roll and keeps pitch; a rotation by θ adds θ to roll', () => {
    const pose = { yaw: 35, pitch: -12, roll: 8 };
    const pts = projectMeanFace(pose);
    // Against the fit of the original (itself within 0.3° of the truth: the fit centres the camera on the points).
    const fit = estimatePose(pts);
    near(fit, pose, 0.3);
    near(estimatePose(mirror(pts)), { yaw: -fit.yaw, pitch: fit.pitch, roll: -fit.roll }, 0.01);
    const t = 25 * (Math.PI / 180);
    const rotated = pts.map(([x, y]): Point => [Math.cos(t) * x - Math.sin(t) * y, Math.sin(t) * x + Math.cos(t) * y]);
    near(estimatePose(rotated), { ...fit, roll: fit.roll + 25 }, 0.01);
  });

  it('stays within 2° with 0.5 % landmark noise', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 2;
    const pose = { yaw: -40, pitch: 15, roll: -20 };
    const pts = projectMeanFace(pose).map(([x, y]): Point => [x + rnd(), y + rnd()]);
    near(estimatePose(pts), pose, 2);
  });

  it('the mean face is mirror-symmetric', () => {
    MEAN_FACE_3D.forEach((p, i) => {
      const q = MEAN_FACE_3D[MIRROR_68[i]!]!;
      expect([p[0], p[1], p[2]]).toEqual([-q[0] || 0, q[1], q[2]].map((v, k) => (k === 0 && p[0] === 0 ? 0 : v)));
    });
  });

  it('rejects anything but 68 points', () => {
    expect(() => estimatePose([[0, 0]])).toThrow(/68 landmarks/);
  });
});
