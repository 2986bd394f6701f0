// What every format module works with: the sets and faces from the records, the settings, and the files a set's
// folder holds in a format. A format is one module exporting a SetFormat (or, for xmp, sidecars per photo).
import type { Pose } from '../curation/pose';
import type { Box, Point, RgbImage } from '../engine/types';
import type { DflFaceType } from './dfl';
import type { FaceswapFace } from './faceswap';

export interface FormatParams {
  dflFaceType: DflFaceType;
  /** Side of DeepFaceLab and faceswap faces, px (the job's exportSize). */
  faceSize: number;
  loraSize: number;
  loraRepeats: number;
  loraClass: string;
}

/** One face a set exports, with what every format needs. */
export interface FormatFace {
  sha256: string;
  faceIndex: number;
  box: Box;
  kps: readonly Point[];
  /** Real paths of the source photo under BUCKET_ROOTS, tried in order. */
  paths: readonly string[];
  /** Head pose in degrees (curation/pose.ts), when the face record has one: LoRA captions name it. */
  pose?: Pose;
}

/** A set as the formats see it: its name, its label, the bucket its photos are in, and the faces it exports. */
export interface FormatSet {
  name: string;
  label: string | null;
  bucket: string;
  faces: readonly FormatFace[];
}

export const faceKey = (f: Pick<FormatFace, 'sha256' | 'faceIndex'>): string => `${f.sha256}:${f.faceIndex}`;


/** One file of a build: where it goes, the face and settings it shows (its reuse key), and how to make it. */
export interface PlannedFile {
  rel: string;
  reuseKey: string | null;
  face: FormatFace | null;
  make: ((img: RgbImage, lm: Point[]) => Promise<Buffer>) | null;
  data: Buffer | string | null;
  /** Told the face's landmarks and frame size (height, width) once its file is rendered or reused. */
  onReady?: (lm: Point[], dims: [number, number]) => void;
  /** faceswap's alignments.fsa: written last, from the faces that were written. */
  alignments?: FaceswapFace[];
}

/** A format written per set: `_formats/<name>/<set>/` holds `files(set)` (paths relative to that folder). */
export interface SetFormat {
  name: string;
  files(set: FormatSet, params: FormatParams): PlannedFile[];
}
