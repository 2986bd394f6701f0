// faceswap's "head" centering (lib/align/pose.py PoseEstimate): cv2.solvePnP of 26 core landmarks, in the legacy
// aligned (unit) space, against faceswap's 3D mean face, then the head centre [0, 0, -2.3] projected; the legacy
// matrix is shifted by that offset. solvePnP's iterative method is a Levenberg–Marquardt fit of the reprojection
// error; the same fit here (numeric Jacobian), started where OpenCV's ends up for a face (see solvePnP).
import type { Point } from '../engine/types';

/** _CORE_LMS of lib/align/pose.py. */
const CORE_LMS = [6, 7, 8, 9, 10, 17, 21, 22, 26, 31, 32, 33, 34, 35, 36, 39, 42, 45, 48, 50, 51, 52, 54, 56, 57, 58] as const;

/** MEAN_FACE[LM_3D_26] of lib/align/constants.py. */
const MEAN_FACE_3D: readonly (readonly [number, number, number])[] = [
  [4.056931, -11.432347, 1.636229], [1.833492, -12.542305, 4.061275], [0.0, -12.901019, 4.070434], [-1.833492, -12.542305, 4.061275],
  [-4.056931, -11.432347, 1.636229], [6.825897, 1.275284, 4.402142], [1.330353, 1.636816, 6.903745], [-1.330353, 1.636816, 6.903745],
  [-6.825897, 1.275284, 4.402142], [1.930245, -5.060977, 5.914376], [0.746313, -5.136947, 6.263227], [0.0, -5.485328, 6.76343],
  [-0.746313, -5.136947, 6.263227], [-1.930245, -5.060977, 5.914376], [5.311432, 0.0, 3.987654], [1.78993, -0.091703, 4.413414],
  [-1.78993, -0.091703, 4.413414], [-5.311432, 0.0, 3.987654], [2.774015, -7.566103, 5.048531], [0.509714, -7.056507, 6.566167],
  [0.0, -7.131772, 6.704956], [-0.509714, -7.056507, 6.566167], [-2.774015, -7.566103, 5.048531], [-0.589441, -8.443925, 6.109526],
  [0.0, -8.601736, 6.097667], [0.589441, -8.443925, 6.109526],
];

/** get_camera_matrix(): focal length 4, principal point (0.5, 0.5). */
const F = 4, C = 0.5;

type Vec3 = [number, number, number];

/** cv2.Rodrigues: rotation vector → 3×3 matrix (row-major). */
function rodrigues([x, y, z]: Vec3): number[] {
  const th = Math.hypot(x, y, z);
  if (th < 1e-12) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const [kx, ky, kz] = [x / th, y / th, z / th];
  const c = Math.cos(th), s = Math.sin(th), v = 1 - c;
  return [
    c + kx * kx * v, kx * ky * v - kz * s, kx * kz * v + ky * s,
    ky * kx * v + kz * s, c + ky * ky * v, ky * kz * v - kx * s,
    kz * kx * v - ky * s, kz * ky * v + kx * s, c + kz * kz * v,
  ];
}

/** cv2.projectPoints with the camera above and no distortion. */
function project(p: readonly number[], X: readonly [number, number, number]): Point {
  const R = rodrigues([p[0]!, p[1]!, p[2]!]);
  const x = R[0]! * X[0] + R[1]! * X[1] + R[2]! * X[2] + p[3]!;
  const y = R[3]! * X[0] + R[4]! * X[1] + R[5]! * X[2] + p[4]!;
  const z = R[6]! * X[0] + R[7]! * X[1] + R[8]! * X[2] + p[5]!;
  return [(F * x) / z + C, (F * y) / z + C];
}

function residuals(p: readonly number[], pts: readonly Point[]): number[] {
  const r: number[] = [];
  MEAN_FACE_3D.forEach((X, i) => {
    const q = project(p, X);
    r.push(q[0] - pts[i]![0], q[1] - pts[i]![1]);
  });
  return r;
}

/** Solves (JᵀJ + λ diag(JᵀJ)) δ = −Jᵀr for 6 unknowns (Gaussian elimination with partial pivoting). */
function solve6(A: number[][], b: number[]): number[] | null {
  const n = 6;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[piv]![c]!)) piv = r;
    if (Math.abs(M[piv]![c]!) < 1e-18) return null;
    [M[c], M[piv]] = [M[piv]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

const sq = (r: readonly number[]): number => r.reduce((a, v) => a + v * v, 0);

/** Rotation and translation of the mean face that best reproject onto the 26 core points (unit aligned space). */
export function solvePnP(aligned68: readonly Point[]): number[] {
  const pts = CORE_LMS.map((i) => aligned68[i]!);
  // Start where OpenCV's solver ends up for faces: no rotation, the face in front of the camera's *negative* z
  // (the model's y points up and the image's down; a negative depth flips both axes, so that is the fit with the
  // least reprojection error, and the one faceswap's offsets are made from), at the distance that gives its size.
  const spread = (a: readonly number[]) => Math.max(...a) - Math.min(...a);
  const imgW = spread(pts.map((q) => q[0])), modelW = spread(MEAN_FACE_3D.map((X) => X[0]));
  let p = [0, 0, 0, 0, 0, -(F * modelW) / Math.max(imgW, 1e-6)];
  const cx = pts.reduce((a, q) => a + q[0], 0) / pts.length, cy = pts.reduce((a, q) => a + q[1], 0) / pts.length;
  p[3] = ((cx - C) * p[5]!) / F;
  p[4] = ((cy - C) * p[5]!) / F;
  let r = residuals(p, pts);
  let err = sq(r);
  let lambda = 1e-3;
  for (let iter = 0; iter < 200; iter++) {
    const J: number[][] = [];
    for (let k = 0; k < 6; k++) {
      const h = 1e-7 * Math.max(1, Math.abs(p[k]!));
      const hi = [...p], lo = [...p];
      hi[k]! += h;
      lo[k]! -= h;
      const rh = residuals(hi, pts), rl = residuals(lo, pts);
      J.push(rh.map((v, i) => (v - rl[i]!) / (2 * h)));
    }
    const A = Array.from({ length: 6 }, (_, a) => Array.from({ length: 6 }, (_, b) => J[a]!.reduce((s, v, i) => s + v * J[b]![i]!, 0)));
    const g = Array.from({ length: 6 }, (_, a) => -J[a]!.reduce((s, v, i) => s + v * r[i]!, 0));
    let improved = false;
    for (let tries = 0; tries < 10 && !improved; tries++) {
      const d = solve6(A.map((row, a) => row.map((v, b) => (a === b ? v * (1 + lambda) : v))), g);
      if (!d) break;
      const next = p.map((v, k) => v + d[k]!);
      const rn = residuals(next, pts);
      const en = sq(rn);
      if (en < err) {
        const gain = err - en;
        p = next;
        r = rn;
        err = en;
        lambda = Math.max(lambda / 10, 1e-12);
        improved = true;
        if (gain < 1e-20 || Math.max(...d.map(Math.abs)) < 1e-12) return p;
      } else {
        lambda *= 10;
      }
    }
    if (!improved) break;
  }
  return p;
}

/** PoseEstimate.offset["head"]: where the head centre [0, 0, -2.3] projects, less the centre (0.5, 0.5). */
export function headOffset(aligned68: readonly Point[]): Point {
  const p = solvePnP(aligned68);
  const q = project(p, [0, 0, -2.3]);
  return [q[0] - C, q[1] - C];
}
