// faceswap extracted faces: a PNG with an iTXt chunk keyed `faceswap` holding a Python-literal dict (lib/image.py
// png_write_meta / pack_to_itxt; lib/align/objects.py PNGHeader), and alignments.fsa: zlib of a pickle
// {"__meta__": {"version": 2.4}, "__data__": {frame: {"faces": [...], "video_meta": {}}}} (lib/align/alignments.py,
// lib/serializer.py _CompressedSerializer).
import { basename } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { applyAffine, estimateSimilarity, warpAffineAntialiased, type Affine } from '../engine/align';
import { headOffset } from './faceswap-pose';
import type { Box, Point, RgbImage } from '../engine/types';
import { faceKey, type FormatFace, type PlannedFile, type SetFormat } from './format-types';
import { pickleDumps } from './pickle';
import { insertBeforeIdat, itxtChunk } from './png-itxt';
import { pyFloat, pyFloats, PyTuple, pyLiteral, type PyValue } from './py-value';

/** lib/align/alignments.py _VERSION. */
export const FACESWAP_ALIGNMENTS_VERSION = 2.4;
export const FACESWAP_ALIGNMENTS_FILE = 'alignments.fsa';

/** lib/align/constants.py MEAN_FACE[LM_2D_51]: points 17–67 of a 68-point face in a unit square. */
const MEAN_FACE_51: readonly Point[] = [
  [0.010086, 0.106454],
  [0.085135, 0.038915],
  [0.191003, 0.018748],
  [0.300643, 0.034489],
  [0.403270, 0.077391],
  [0.596729, 0.077391],
  [0.699356, 0.034489],
  [0.808997, 0.018748],
  [0.914864, 0.038915],
  [0.989913, 0.106454],
  [0.500000, 0.203352],
  [0.500000, 0.307009],
  [0.500000, 0.409805],
  [0.500000, 0.515625],
  [0.376753, 0.587326],
  [0.435909, 0.609345],
  [0.500000, 0.628106],
  [0.564090, 0.609345],
  [0.623246, 0.587326],
  [0.131610, 0.216423],
  [0.196995, 0.178758],
  [0.275698, 0.179852],
  [0.344479, 0.231733],
  [0.270791, 0.245099],
  [0.192616, 0.244077],
  [0.655520, 0.231733],
  [0.724301, 0.179852],
  [0.803005, 0.178758],
  [0.868389, 0.216423],
  [0.807383, 0.244077],
  [0.729208, 0.245099],
  [0.264022, 0.780233],
  [0.350858, 0.745405],
  [0.438731, 0.727388],
  [0.500000, 0.742578],
  [0.561268, 0.727388],
  [0.649141, 0.745405],
  [0.735977, 0.780233],
  [0.652032, 0.864805],
  [0.566594, 0.902192],
  [0.500000, 0.909281],
  [0.433405, 0.902192],
  [0.347967, 0.864805],
  [0.300252, 0.784792],
  [0.437969, 0.778746],
  [0.500000, 0.785343],
  [0.562030, 0.778746],
  [0.699747, 0.784792],
  [0.563237, 0.824182],
  [0.500000, 0.831803],
  [0.436763, 0.824182],
];

/** EXTRACT_RATIOS["head"] of lib/align/constants.py: faceswap's extract writes head-centred faces. */
const HEAD_RATIO = 0.625;

/** The "legacy" matrix of lib/align/aligned_face.py _get_default_matrix: umeyama of landmarks 17–67 onto MEAN_FACE. */
export function faceswapLegacyUnitMat(lm: readonly Point[]): Affine {
  if (lm.length !== 68) throw new Error(`faceswap alignment needs 68 landmarks, got ${lm.length}`);
  return estimateSimilarity(lm.slice(17), MEAN_FACE_51);
}

/**
 * What faceswap's extract crops (AlignedFace with centering "head", coverage 1): the legacy matrix shifted by the
 * pose's head offset (AlignedFace.matrix), scaled and padded as transform_image does with _padding_from_coverage.
 */
export function faceswapHeadMat(lm: readonly Point[], size: number): Affine {
  const m = faceswapLegacyUnitMat(lm);
  const [ox, oy] = headOffset(lm.map((p) => applyAffine(m, p)));
  const pad = Math.round((size * HEAD_RATIO) / 2);
  const k = size - 2 * pad;
  return [m[0] * k, m[1] * k, (m[2] - ox) * k + pad, m[3] * k, m[4] * k, (m[5] - oy) * k + pad];
}

export interface FaceswapFace {
  /** File name of the frame (the source photo's base name): the key of the alignments file. */
  frame: string;
  /** Index of the face among the frame's faces in this set. */
  faceIndex: number;
  box: Box;
  landmarks: readonly Point[];
  /** (height, width) of the frame as displayed. */
  frameDims: [number, number];
}

/** `<frame stem>_<face index>.png`, as faceswap's extract names faces. */
export function faceswapFileName(f: Pick<FaceswapFace, 'frame' | 'faceIndex'>): string {
  const dot = f.frame.lastIndexOf('.');
  return `${dot > 0 ? f.frame.slice(0, dot) : f.frame}_${f.faceIndex}.png`;
}

/** One face as lib/align/objects.py PNGAlignments holds it (x, y, w, h ints; landmarks_xy floats; no masks). */
export function faceswapAlignment(f: FaceswapFace): Record<string, PyValue> {
  const [x1, y1, x2, y2] = f.box.map((v) => Math.round(v)) as Box;
  return { x: x1, y: y1, w: x2 - x1, h: y2 - y1, landmarks_xy: pyFloats(f.landmarks), mask: {}, identity: {} };
}

export async function renderFaceswapPng(img: RgbImage, f: FaceswapFace, size: number): Promise<{ png: Buffer; mat: Affine }> {
  const mat = faceswapHeadMat(f.landmarks, size);
  const pixels = warpAffineAntialiased(img, mat, size, size);
  const png = await sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
  const header: PyValue = {
    alignments: faceswapAlignment(f),
    source: {
      alignments_version: pyFloat(FACESWAP_ALIGNMENTS_VERSION),
      original_filename: faceswapFileName(f),
      face_index: f.faceIndex,
      source_filename: f.frame,
      source_is_video: false,
      source_frame_dims: new PyTuple(f.frameDims),
    },
  };
  return { png: insertBeforeIdat(png, itxtChunk('faceswap', pyLiteral(header))), mat };
}

/** alignments.fsa of a set: every face under its frame, in face-index order. */
export function faceswapAlignmentsFile(faces: readonly FaceswapFace[]): Buffer {
  const data: Record<string, { faces: Record<string, PyValue>[]; video_meta: Record<string, PyValue> }> = {};
  for (const f of [...faces].sort((a, b) => a.faceIndex - b.faceIndex)) {
    (data[f.frame] ??= { faces: [], video_meta: {} }).faces.push({ ...faceswapAlignment(f), thumb: null });
  }
  return deflateSync(pickleDumps({ __meta__: { version: pyFloat(FACESWAP_ALIGNMENTS_VERSION) }, __data__: data }));
}


/**
 * `_formats/faceswap/<set>/`: `<frame stem>_<i>.png` per face and alignments.fsa. faceswap keys frames by file
 * name: a second photo of the same name in one set is left out.
 */
export const faceswapFormat: SetFormat = {
  name: 'faceswap',
  files(set, p) {
    const files: PlannedFile[] = [];
    const frames = new Map<string, { sha: string; next: number }>();
    const fsFaces: { face: FormatFace; fs: FaceswapFace }[] = [];
    for (const face of [...set.faces].sort((a, b) => (a.sha256 === b.sha256 ? a.faceIndex - b.faceIndex : a.sha256 < b.sha256 ? -1 : 1))) {
      const frame = basename(face.paths[0] ?? `${face.sha256.slice(0, 8)}.jpg`);
      const seen = frames.get(frame) ?? frames.set(frame, { sha: face.sha256, next: 0 }).get(frame)!;
      if (seen.sha !== face.sha256) continue;
      fsFaces.push({ face, fs: { frame, faceIndex: seen.next++, box: face.box, landmarks: [], frameDims: [0, 0] } });
    }
    for (const { face, fs } of fsFaces) {
      files.push({
        rel: faceswapFileName(fs), reuseKey: `${faceKey(face)}|faceswap|${p.faceSize}|${fs.frame}|${fs.faceIndex}`, face, data: null,
        make: async (img, lm) => (await renderFaceswapPng(img, { ...fs, landmarks: lm, frameDims: [img.height, img.width] }, p.faceSize)).png,
        onReady: (lm, dims) => {
          fs.landmarks = lm;
          fs.frameDims = dims;
        },
      });
    }
    // Written after every face (its landmarks and frame size are known then), from the faces that were written.
    files.push({ rel: FACESWAP_ALIGNMENTS_FILE, reuseKey: null, face: null, make: null, data: null, alignments: fsFaces.map((x) => x.fs) });
    return files;
  },
};
