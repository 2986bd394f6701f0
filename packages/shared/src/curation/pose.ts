// Head pose (yaw, pitch, roll in degrees) from the 68 landmarks: a perspective-n-point fit to a 3-D mean face.
import type { Point } from '../engine/types';

/**
 * Degrees. yaw > 0: the nose points to the image's right (the person turns to their left); pitch > 0: the face
 * looks up; roll > 0: the face is turned clockwise as the image is shown. A horizontal mirror flips yaw and roll
 * and keeps pitch; rotating the photo clockwise by θ adds θ to roll. R = Rz(roll)·Ry(−yaw)·Rx(−pitch).
 */
/** Definition of the curation measures (pose, shot thumbnail) stored per face; sources.pose_version below it are re-measured. */
export const POSE_VERSION = 1;

export interface Pose {
  yaw: number;
  pitch: number;
  roll: number;
}

/** iBUG 68 index of each point's mirror image (left eye ↔ right eye, jaw 0 ↔ 16, …). */
export const MIRROR_68: readonly number[] = (() => {
  const m = Array.from({ length: 68 }, (_, i) => i);
  const pairs: [number, number][] = [
    ...Array.from({ length: 8 }, (_, i): [number, number] => [i, 16 - i]),
    [17, 26], [18, 25], [19, 24], [20, 23], [21, 22],
    [31, 35], [32, 34],
    [36, 45], [37, 44], [38, 43], [39, 42], [40, 47], [41, 46],
    [48, 54], [49, 53], [50, 52], [55, 59], [56, 58],
    [60, 64], [61, 63], [65, 67],
  ];
  for (const [a, b] of pairs) { m[a] = b; m[b] = a; }
  return Object.freeze(m);
})();

/**
 * x, y: the landmark model's own mean over the fixtures' faces, each aligned onto the 112 px ArcFace template and
 * mirror-symmetrised (`tsx scripts/mean-face.ts`, 86 faces), x from the template's centre line. z (depth behind the nose tip,
 * same units; 1 unit ≈ 1.8 mm, the template's 35 units between the eye centres) from typical adult anthropometry:
 * jaw at the ear 95 mm, eye corners 28–36 mm, mouth corners 32 mm behind the tip. Only the first half of each
 * mirror pair is written; the rest follows by symmetry, so a mirrored face fits the mirrored pose exactly.
 */
const MEAN_XY: readonly Point[] = [[-40.15,52.2],[-39.94,62.99],[-38.84,73.75],[-36.89,84.4],[-33.07,94.38],[-26.87,103.12],[-19.13,110.57],[-10.3,116.59],[0,118.32],[10.3,116.59],[19.13,110.57],[26.87,103.12],[33.07,94.38],[36.89,84.4],[38.84,73.75],[39.94,62.99],[40.15,52.2],[-32.97,45.49],[-27.98,40.85],[-20.68,39.6],[-13.2,40.77],[-6.21,43.77],[6.21,43.77],[13.2,40.77],[20.68,39.6],[27.98,40.85],[32.97,45.49],[0,51.93],[0,59.19],[0,66.38],[0,73.82],[-8.61,78.06],[-4.47,79.6],[0,80.94],[4.47,79.6],[8.61,78.06],[-24.73,52.63],[-20.35,50.26],[-15.03,50.35],[-10.43,53.79],[-15.37,54.57],[-20.67,54.47],[10.43,53.79],[15.03,50.35],[20.35,50.26],[24.73,52.63],[20.67,54.47],[15.37,54.57],[-16.28,90.17],[-10.24,88.39],[-4.21,87.44],[0,88.54],[4.21,87.44],[10.24,88.39],[16.28,90.17],[10.46,96.27],[4.58,98.98],[0,99.49],[-4.58,98.98],[-10.46,96.27],[-13.88,90.63],[-4.28,90.77],[0,91.32],[4.28,90.77],[13.88,90.63],[4.36,93.6],[0,94.18],[-4.36,93.6]];

/** Depth behind the nose tip, mm, for points 0–16 (jaw), 17–21 (brow), 27–33 (nose), 36–41 (eye), 48–51, 55–57, 60–62, 65–66 (mouth). */
const DEPTH_MM: Readonly<Record<number, number>> = {
  0: 95, 1: 88, 2: 78, 3: 68, 4: 56, 5: 45, 6: 34, 7: 26, 8: 22,
  17: 34, 18: 27, 19: 24, 20: 23, 21: 22,
  27: 22, 28: 15, 29: 8, 30: 0, 31: 18, 32: 14, 33: 13,
  36: 36, 37: 30, 38: 29, 39: 28, 40: 30, 41: 31,
  48: 32, 49: 23, 50: 17, 51: 15, 55: 24, 56: 19, 57: 18,
  60: 29, 61: 19, 62: 17, 65: 20, 66: 19,
};
const MM_PER_UNIT = 1.8;

export type Point3 = [x: number, y: number, z: number];

/** The 3-D mean face: x right, y down, z away from the camera (nose tip nearest), ArcFace template units. */
export const MEAN_FACE_3D: readonly Point3[] = Object.freeze(
  MEAN_XY.map(([x, y], i): Point3 => {
    const z = DEPTH_MM[i] ?? DEPTH_MM[MIRROR_68[i]!];
    if (z === undefined) throw new Error(`pose: no depth for landmark ${i}`);
    return [x, y, z / MM_PER_UNIT];
  }),
);

/**
 * Points the fit uses: jaw, brows, nose, eyes, mouth corners and upper lip (0–54). The lower and inner lips
 * (55–67) move with an open mouth, which is no head motion.
 */
export const FIT_POINTS: readonly number[] = Object.freeze(Array.from({ length: 55 }, (_, i) => i));

/**
 * Focal length in units of the face's own RMS radius (landmarks about their centroid): the camera as if 10 face
 * radii away, about 55 cm, a handheld portrait. Fixed, as in DeepFaceLab (which uses its crop size): the photo's
 * own focal length is unknown. The principal point is the landmarks' centroid, so the fit is position free.
 */
export const FOCAL = 10;

const RAD = Math.PI / 180;

type Mat3 = [number, number, number, number, number, number, number, number, number];

/** R = Rz(r)·Ry(b)·Rx(a), row-major. */
function rotation(a: number, b: number, r: number): Mat3 {
  const ca = Math.cos(a), sa = Math.sin(a), cb = Math.cos(b), sb = Math.sin(b), cr = Math.cos(r), sr = Math.sin(r);
  return [
    cr * cb, cr * sb * sa - sr * ca, cr * sb * ca + sr * sa,
    sr * cb, sr * sb * sa + cr * ca, sr * sb * ca - cr * sa,
    -sb, cb * sa, cb * ca,
  ];
}

/** Euler angles (a about x, b about y, r about z) of R = Rz(r)·Ry(b)·Rx(a). */
function eulerOf(R: Mat3): [a: number, b: number, r: number] {
  return [Math.atan2(R[7], R[8]), Math.atan2(-R[6], Math.hypot(R[0], R[3])), Math.atan2(R[3], R[0])];
}

/** The model points of FIT_POINTS about their centroid. */
const MODEL: Point3[] = (() => {
  const pts = FIT_POINTS.map((i) => MEAN_FACE_3D[i]!);
  const c = [0, 1, 2].map((k) => pts.reduce((s, p) => s + p[k]!, 0) / pts.length);
  return pts.map((p): Point3 => [p[0] - c[0]!, p[1] - c[1]!, p[2] - c[2]!]);
})();

/** The fit's parameters: Euler angles a, b, r (radians) and translation tx, ty, tz. */
type Params = [number, number, number, number, number, number];

/** MODEL as one flat array (x, y, z per point): the projection is the fit's inner loop. */
const MODEL_FLAT = Float64Array.from(MODEL.flat());

function project(p: Params, out: Float64Array): void {
  const R = rotation(p[0], p[1], p[2]);
  const [tx, ty, tz] = [p[3], p[4], p[5]];
  for (let i = 0, n = MODEL_FLAT.length / 3; i < n; i++) {
    const x = MODEL_FLAT[3 * i]!, y = MODEL_FLAT[3 * i + 1]!, z = MODEL_FLAT[3 * i + 2]!;
    const Z = R[6] * x + R[7] * y + R[8] * z + tz;
    out[2 * i] = (FOCAL * (R[0] * x + R[1] * y + R[2] * z + tx)) / Z;
    out[2 * i + 1] = (FOCAL * (R[3] * x + R[4] * y + R[5] * z + ty)) / Z;
  }
}

/** Observed points of FIT_POINTS about their centroid, divided by their RMS radius. */
function normalise(pts: readonly Point[]): Float64Array {
  const sel = FIT_POINTS.map((i) => pts[i]!);
  const cx = sel.reduce((s, p) => s + p[0], 0) / sel.length, cy = sel.reduce((s, p) => s + p[1], 0) / sel.length;
  const rms = Math.sqrt(sel.reduce((s, p) => s + (p[0] - cx) ** 2 + (p[1] - cy) ** 2, 0) / sel.length);
  if (!(rms > 0)) throw new Error('pose: landmarks are all at one point');
  const out = new Float64Array(sel.length * 2);
  sel.forEach((p, i) => { out[2 * i] = (p[0] - cx) / rms; out[2 * i + 1] = (p[1] - cy) / rms; });
  return out;
}

/** Solves the n×n system A·x = b in place (Gaussian elimination, partial pivoting); null when singular. */
function solve(A: number[][], b: number[]): number[] | null {
  const n = b.length;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[piv]![c]!)) piv = r;
    if (Math.abs(A[piv]![c]!) < 1e-12) return null;
    [A[c], A[piv]] = [A[piv]!, A[c]!];
    [b[c], b[piv]] = [b[piv]!, b[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = A[r]![c]! / A[c]![c]!;
      for (let k = c; k < n; k++) A[r]![k]! -= f * A[c]![k]!;
      b[r]! -= f * b[c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let k = r + 1; k < n; k++) s -= A[r]![k]! * x[k]!;
    x[r] = s / A[r]![r]!;
  }
  return x;
}

/**
 * Starting point: the scaled-orthographic (affine) camera that best maps the model onto the points, its two rows
 * made orthonormal, the third their cross product; the distance from the scale. Near the answer for any pose.
 */
function initialGuess(obs: Float64Array): Params {
  const M = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  const bu = [0, 0, 0], bv = [0, 0, 0];
  MODEL.forEach((p, i) => {
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) M[r]![c]! += p[r]! * p[c]!;
      bu[r]! += p[r]! * obs[2 * i]!;
      bv[r]! += p[r]! * obs[2 * i + 1]!;
    }
  });
  const r1 = solve(M.map((row) => [...row]), bu), r2 = solve(M.map((row) => [...row]), bv);
  if (!r1 || !r2) return [0, 0, 0, 0, 0, FOCAL];
  const n1 = Math.hypot(...r1), n2 = Math.hypot(...r2);
  const s = (n1 + n2) / 2;
  const u = r1.map((v) => v / n1);
  let v = r2.map((x) => x / n2);
  const d = u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!;
  v = v.map((x, k) => x - d * u[k]!);
  const nv = Math.hypot(...v);
  v = v.map((x) => x / nv);
  const w = [u[1]! * v[2]! - u[2]! * v[1]!, u[2]! * v[0]! - u[0]! * v[2]!, u[0]! * v[1]! - u[1]! * v[0]!];
  const [a, b, r] = eulerOf([u[0]!, u[1]!, u[2]!, v[0]!, v[1]!, v[2]!, w[0]!, w[1]!, w[2]!]);
  return [a, b, r, 0, 0, FOCAL / s];
}

function sumSquares(p: Params, obs: Float64Array, buf: Float64Array): number {
  project(p, buf);
  let s = 0;
  for (let i = 0; i < obs.length; i++) s += (buf[i]! - obs[i]!) ** 2;
  return s;
}

/** Head pose of a face from its 68 landmarks (any image coordinates: the fit is scale and position free). */
export function estimatePose(landmarks: readonly Point[]): Pose {
  if (landmarks.length !== 68) throw new Error(`pose: expected 68 landmarks, got ${landmarks.length}`);
  const obs = normalise(landmarks);
  const m = obs.length;
  const cur = new Float64Array(m), probe = new Float64Array(m), trial = new Float64Array(m);
  const J = Array.from({ length: 6 }, () => new Float64Array(m));
  const JtJ = Array.from({ length: 6 }, () => new Array<number>(6).fill(0));
  const Jtr = new Array<number>(6).fill(0);
  let p = initialGuess(obs);
  let cost = sumSquares(p, obs, cur);
  let lambda = 1e-3;
  // Levenberg–Marquardt on the 6 parameters, forward-difference Jacobian: 7 projections of 55 points a step, and
  // 4–7 steps from the affine start on real landmarks.
  for (let iter = 0; iter < 50; iter++) {
    project(p, cur);
    for (let k = 0; k < 6; k++) {
      const h = 1e-7 * Math.max(1, Math.abs(p[k]!));
      const pk = p.slice() as Params;
      pk[k]! += h;
      project(pk, probe);
      const col = J[k]!;
      for (let i = 0; i < m; i++) col[i] = (probe[i]! - cur[i]!) / h;
    }
    for (let r = 0; r < 6; r++) {
      const jr = J[r]!;
      let g = 0;
      for (let i = 0; i < m; i++) g += jr[i]! * (obs[i]! - cur[i]!);
      Jtr[r] = g;
      for (let c = r; c < 6; c++) {
        const jc = J[c]!;
        let v = 0;
        for (let i = 0; i < m; i++) v += jr[i]! * jc[i]!;
        JtJ[r]![c] = v;
        JtJ[c]![r] = v;
      }
    }
    let improved = false, done = false;
    for (let tries = 0; tries < 8 && !improved; tries++) {
      const A = JtJ.map((row, r) => row.map((v, c) => (r === c ? v * (1 + lambda) + 1e-12 : v)));
      const step = solve(A, Jtr.slice());
      if (!step) { lambda *= 10; continue; }
      const next = p.map((v, k) => v + step[k]!) as Params;
      const c = sumSquares(next, obs, trial);
      if (c < cost) {
        // Converged once a step moves no angle by 1e-6 rad (0.00006°) or the fit stops improving (noisy points).
        done = cost - c <= 1e-9 * cost || Math.max(Math.abs(step[0]!), Math.abs(step[1]!), Math.abs(step[2]!)) < 1e-6;
        p = next; cost = c; lambda = Math.max(lambda / 10, 1e-9); improved = true;
      } else lambda *= 10;
    }
    if (!improved || done) break;
  }
  return { yaw: -p[1] / RAD, pitch: -p[0] / RAD, roll: p[2] / RAD };
}

/** The mean face's 68 points seen at this pose, in pixels (face RMS radius about 100 px): what the fit inverts. */
export function projectMeanFace(pose: Pose): Point[] {
  const R = rotation(-pose.pitch * RAD, -pose.yaw * RAD, pose.roll * RAD);
  const c = [0, 1, 2].map((k) => FIT_POINTS.reduce((s, i) => s + MEAN_FACE_3D[i]![k]!, 0) / FIT_POINTS.length);
  // At FOCAL model radii from the camera: the perspective the fit assumes.
  const rms = Math.sqrt(MODEL.reduce((s, p) => s + p[0] ** 2 + p[1] ** 2, 0) / MODEL.length);
  const tz = FOCAL * rms, k = 100 * FOCAL;
  return MEAN_FACE_3D.map(([x0, y0, z0]): Point => {
    const x = x0 - c[0]!, y = y0 - c[1]!, z = z0 - c[2]!;
    const X = R[0] * x + R[1] * y + R[2] * z, Y = R[3] * x + R[4] * y + R[5] * z, Z = R[6] * x + R[7] * y + R[8] * z + tz;
    return [400 + (k * X) / Z, 300 + (k * Y) / Z];
  });
}
