// DeepFaceLab aligned faces: a JPEG with one APP15 segment holding a pickled dict, as DFLIMG/DFLJPG.py writes them,
// aligned as facelib/LandmarksProcessor.py get_transform_mat does for the face type.
import { basename } from 'node:path';
import sharp from 'sharp';
import { applyAffine, estimateSimilarity, invertAffine, warpAffineAntialiased, type Affine } from '../engine/align';
import type { Box, Point, RgbImage } from '../engine/types';
import { cropFileName } from '../export/naming';
import { faceKey, type SetFormat } from './format-types';
import { insertApp15 } from './jpeg-app15';
import { DFL_FACE_TYPE_NAMES, type DflFaceTypeName } from '../params';
import { pickleDumps } from './pickle';
import { pyFloat, pyFloats, PyTuple, type PyValue } from './py-value';

/** The face types the `dflFaceType` param takes (defined once, in params.ts). */
export const DFL_FACE_TYPES = DFL_FACE_TYPE_NAMES;
export type DflFaceType = DflFaceTypeName;

/** FaceType_to_padding_remove_align of LandmarksProcessor.py (none of ours removes the alignment). */
const PADDING: Record<DflFaceType, number> = { full_face: 0.2109375, whole_face: 0.4, head: 0.7 };

/** landmarks_2D_new of LandmarksProcessor.py: mean face of points 17–48 and 54 in a unit square. */
const LANDMARKS_2D_NEW: readonly Point[] = [
  [0.000213256, 0.106454], // 17
  [0.0752622, 0.038915], // 18
  [0.18113, 0.0187482], // 19
  [0.29077, 0.0344891], // 20
  [0.393397, 0.0773906], // 21
  [0.586856, 0.0773906], // 22
  [0.689483, 0.0344891], // 23
  [0.799124, 0.0187482], // 24
  [0.904991, 0.038915], // 25
  [0.98004, 0.106454], // 26
  [0.490127, 0.203352], // 27
  [0.490127, 0.307009], // 28
  [0.490127, 0.409805], // 29
  [0.490127, 0.515625], // 30
  [0.36688, 0.587326], // 31
  [0.426036, 0.609345], // 32
  [0.490127, 0.628106], // 33
  [0.554217, 0.609345], // 34
  [0.613373, 0.587326], // 35
  [0.121737, 0.216423], // 36
  [0.187122, 0.178758], // 37
  [0.265825, 0.179852], // 38
  [0.334606, 0.231733], // 39
  [0.260918, 0.245099], // 40
  [0.182743, 0.244077], // 41
  [0.645647, 0.231733], // 42
  [0.714428, 0.179852], // 43
  [0.793132, 0.178758], // 44
  [0.858516, 0.216423], // 45
  [0.79751, 0.244077], // 46
  [0.719335, 0.245099], // 47
  [0.254149, 0.780233], // 48
  [0.726104, 0.780233], // 54
];

/** JPEG quality of DeepFaceLab's extractor (its default). */
export const DFL_JPEG_QUALITY = 90;

const sub = (a: Point, b: Point): Point => [a[0] - b[0], a[1] - b[1]];
const add = (a: Point, b: Point): Point => [a[0] + b[0], a[1] + b[1]];
const mul = (a: Point, k: number): Point => [a[0] * k, a[1] * k];
const norm = (a: Point): number => Math.hypot(a[0], a[1]);
const unit = (a: Point): Point => mul(a, 1 / norm(a));

/** cv2.getAffineTransform: the affine mapping three points exactly onto three others. */
export function affineFrom3(src: readonly Point[], dst: readonly Point[]): Affine {
  const [p0, p1, p2] = src as [Point, Point, Point];
  const det = (p1[0] - p0[0]) * (p2[1] - p0[1]) - (p2[0] - p0[0]) * (p1[1] - p0[1]);
  if (det === 0) throw new Error('affineFrom3: points are collinear');
  const solve = (k: 0 | 1): [number, number, number] => {
    const [q0, q1, q2] = [dst[0]![k], dst[1]![k], dst[2]![k]];
    const a = ((q1 - q0) * (p2[1] - p0[1]) - (q2 - q0) * (p1[1] - p0[1])) / det;
    const b = ((q2 - q0) * (p1[0] - p0[0]) - (q1 - q0) * (p2[0] - p0[0])) / det;
    return [a, b, q0 - a * p0[0] - b * p0[1]];
  };
  return [...solve(0), ...solve(1)] as Affine;
}

/** estimate_averaged_yaw of LandmarksProcessor.py, on landmarks in the unit (umeyama) space. */
function averagedYaw(l: readonly Point[]): number {
  const x = (i: number) => l[i]![0];
  const left = (x(27) - x(0) + (x(28) - x(1)) + (x(29) - x(2))) / 3;
  const right = (x(16) - x(27) + (x(15) - x(28)) + (x(14) - x(29))) / 3;
  return right - left;
}

/** LandmarksProcessor.get_transform_mat(image_landmarks, output_size, face_type) (scale 1): source → aligned. */
export function dflTransformMat(lm: readonly Point[], size: number, faceType: DflFaceType): Affine {
  if (lm.length !== 68) throw new Error(`DeepFaceLab alignment needs 68 landmarks, got ${lm.length}`);
  const mat = estimateSimilarity([...lm.slice(17, 49), lm[54]!], LANDMARKS_2D_NEW);
  const inv = invertAffine(mat);
  const gp = ([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]] as Point[]).map((p) => applyAffine(inv, p));
  let gc = gp[4]!;
  const tb = unit(sub(gp[2]!, gp[0]!));
  const bt = unit(sub(gp[1]!, gp[3]!));
  const mod = norm(sub(gp[0]!, gp[2]!)) * (PADDING[faceType] * Math.SQRT2 + 0.5);
  if (faceType === 'whole_face') {
    const vec = sub(gp[0]!, gp[3]!);
    gc = add(gc, mul(unit(vec), norm(vec) * 0.07));
  } else if (faceType === 'head') {
    let yaw = averagedYaw(lm.map((p) => applyAffine(mat, p)));
    const hvec = sub(gp[0]!, gp[1]!);
    yaw *= Math.abs(Math.tanh(yaw * 2));
    gc = sub(gc, mul(unit(hvec), (yaw * norm(hvec)) / 2));
    const vvec = sub(gp[0]!, gp[3]!);
    gc = add(gc, mul(unit(vvec), norm(vvec) * 0.5));
  }
  const lt = [sub(gc, mul(tb, mod)), add(gc, mul(bt, mod)), add(gc, mul(tb, mod))];
  return affineFrom3(lt, [[0, 0], [size, 0], [size, size]]);
}

export interface DflFace {
  /** Base name of the source photo (DeepFaceLab keeps the frame's file name). */
  sourceFilename: string;
  box: Box;
  landmarks: readonly Point[];
}

/** The aligned face JPEG with its APP15 dict; `mat` and the aligned landmarks are returned for checks. */
export async function renderDflJpeg(img: RgbImage, face: DflFace, size: number, faceType: DflFaceType): Promise<{ jpeg: Buffer; mat: Affine; landmarks: Point[] }> {
  const mat = dflTransformMat(face.landmarks, size, faceType);
  const pixels = warpAffineAntialiased(img, mat, size, size);
  const jpeg = await sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: DFL_JPEG_QUALITY, progressive: false, mozjpeg: false }).toBuffer();
  const aligned = face.landmarks.map((p) => applyAffine(mat, p));
  const dict: Record<string, PyValue> = {
    face_type: faceType,
    landmarks: pyFloats(aligned),
    source_filename: face.sourceFilename,
    source_rect: new PyTuple(face.box.map((v) => Math.round(v))),
    source_landmarks: pyFloats(face.landmarks),
    image_to_face_mat: [[mat[0], mat[1], mat[2]].map(pyFloat), [mat[3], mat[4], mat[5]].map(pyFloat)],
  };
  return { jpeg: insertApp15(jpeg, pickleDumps(dict)), mat, landmarks: aligned };
}

/** `_formats/dfl/<set>/`: one aligned JPEG per face, named as its PNG with .jpg. */
export const dflFormat: SetFormat = {
  name: 'dfl',
  files(set, p) {
    return set.faces.map((face) => {
      const source = basename(face.paths[0] ?? '');
      return {
        rel: cropFileName({ paths: face.paths, sha256: face.sha256, faceIndex: face.faceIndex }).replace(/\.png$/, '.jpg'),
        reuseKey: `${faceKey(face)}|dfl|${p.dflFaceType}|${p.faceSize}|${source}`,
        face,
        data: null,
        make: async (img, lm) => (await renderDflJpeg(img, { sourceFilename: source, box: face.box, landmarks: lm }, p.faceSize, p.dflFaceType)).jpeg,
      };
    });
  },
};
