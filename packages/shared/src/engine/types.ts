// Contracts of the face engine: what it returns per file and per face.
import type { Pose } from '../curation/pose';

export type Box = [x1: number, y1: number, x2: number, y2: number];
export type Point = [x: number, y: number];

/** One detected face, in source pixels after EXIF orientation. */
export interface Face {
  box: Box;
  /** Left eye, right eye, nose tip, left mouth corner, right mouth corner (image left/right). */
  kps: [Point, Point, Point, Point, Point];
  detScore: number;
  /** Short side of the box, px. */
  faceShort: number;
  /** Variance of the 3×3 Laplacian over the grayscale face box resampled to a 112 px short side (blur.ts). */
  blur: number;
  /** 512 float32, L2-normalised (empty in a re-measure: `ProcessOptions.knownBoxes`). */
  embedding: Float32Array;
  /** Head pose from the 68 landmarks (curation/pose.ts); absent on records cached before it was measured. */
  pose?: Pose;
  /** Shot thumbnail (curation/shot-thumb.ts, 32×32 luma of the aligned face); absent as pose is. */
  shot?: Uint8Array;
}

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'tiff' | 'psd';

export interface FileOk {
  ok: true;
  path: string;
  sha256: string;
  size: number;
  format: ImageFormat;
  width: number;
  height: number;
  faces: Face[];
  /** Capture time from EXIF (DateTimeOriginal, then DateTime), wall clock as UTC; absent when the photo has none. */
  capturedAt?: Date;
  /** Milliseconds per stage for this file (decode, detect, landmark, embed). */
  timings: StageTimings;
}

export interface FileError {
  ok: false;
  path: string;
  sha256?: string;
  size?: number;
  error: string;
}

export type FileResult = FileOk | FileError;

export interface StageTimings {
  decode: number;
  detect: number;
  landmark: number;
  embed: number;
  /** Of `landmark`: the head-pose fits. */
  pose?: number;
}

export interface ProcessOptions {
  /** Minimum detector score to keep a face [0.5]. */
  detThreshold?: number;
  /** Smallest face short side searched for, px [40]. */
  minFaceSize?: number;
  /**
   * Re-measure only: no detection and no embedding; each of these boxes (a cached source's faces, in order) gets
   * its keypoints, pose and blur measured again, and comes back as a face with an empty embedding and no detScore.
   */
  knownBoxes?: Box[];
}

/** Decoded 8-bit sRGB image, 3 channels interleaved, EXIF orientation applied. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}
