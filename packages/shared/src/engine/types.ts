// Contracts of the face engine: what it returns per file and per face.

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
  /** 512 float32, L2-normalised. */
  embedding: Float32Array;
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
}

export interface ProcessOptions {
  /** Minimum detector score to keep a face [0.5]. */
  detThreshold?: number;
  /** Smallest face short side searched for, px [40]. */
  minFaceSize?: number;
}

/** Decoded 8-bit sRGB image, 3 channels interleaved, EXIF orientation applied. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}
