// Faces as columns: one Float32Array of embeddings and one typed array per field, so a million faces are ~2.1 GB, not millions of objects.
import type { Box, Face, Point } from '../engine/types';
import { compareFaces } from './types';
import type { EmbeddingMatrix } from './vectors';

export interface FaceTable {
  n: number;
  /** Row i is face i's embedding. */
  embeddings: EmbeddingMatrix;
  /** Distinct sources (sha256, lower-case hex), ascending; rows are sorted by (source, faceIndex). */
  shas: string[];
  /** Index into `shas` of each row. */
  source: Int32Array;
  faceIndex: Int32Array;
  /** 4 per row: x1, y1, x2, y2. */
  box: Float32Array;
  /** 10 per row: five (x, y) keypoints. */
  kps: Float32Array;
  detScore: Float32Array;
  faceShort: Float32Array;
  blur: Float32Array;
  /** 3 per row: yaw, pitch, roll in degrees (NaN: not measured). */
  pose: Float32Array;
}

/** An empty table with room for n faces of `dim` dimensions (filled by a loader). */
export function allocateFaceTable(n: number, dim: number): FaceTable {
  return {
    n,
    embeddings: { data: new Float32Array(n * dim), n, dim },
    shas: [],
    source: new Int32Array(n),
    faceIndex: new Int32Array(n),
    box: new Float32Array(n * 4),
    kps: new Float32Array(n * 10),
    detScore: new Float32Array(n),
    faceShort: new Float32Array(n),
    blur: new Float32Array(n),
    pose: new Float32Array(n * 3).fill(Number.NaN),
  };
}

/**
 * The embeddings of `faces` as one matrix without copying, when they already are consecutive rows of one buffer
 * (faces loaded by FacesRepository and none left out); null otherwise.
 */
export function sharedRows(faces: readonly { embedding: Float32Array }[], dim: number): EmbeddingMatrix | null {
  const first = faces[0]?.embedding;
  if (!first) return null;
  for (let i = 0; i < faces.length; i++) {
    const e = faces[i]!.embedding;
    if (e.buffer !== first.buffer || e.length !== dim || e.byteOffset !== first.byteOffset + i * dim * 4) return null;
  }
  return { data: new Float32Array(first.buffer, first.byteOffset, faces.length * dim), n: faces.length, dim };
}

/** A table of face objects, sorted by (sha256, faceIndex) as the table requires; shares their embeddings when it can. */
export function faceTableOf<T extends Face & { sha256: string; faceIndex: number }>(input: readonly T[]): { table: FaceTable; faces: T[] } {
  const faces = [...input].sort(compareFaces);
  const dim = faces[0]?.embedding.length ?? 0;
  const shared = sharedRows(faces, dim);
  const t = allocateFaceTable(faces.length, shared ? 0 : dim);
  if (shared) t.embeddings = shared;
  faces.forEach((f, i) => {
    if (f.embedding.length !== dim) throw new Error(`face ${f.sha256}:${f.faceIndex} has ${f.embedding.length} dimensions, expected ${dim}`);
    if (t.shas[t.shas.length - 1] !== f.sha256) t.shas.push(f.sha256);
    t.source[i] = t.shas.length - 1;
    t.faceIndex[i] = f.faceIndex;
    t.box.set(f.box, i * 4);
    t.kps.set(f.kps.flat(), i * 10);
    t.detScore[i] = f.detScore;
    t.faceShort[i] = f.faceShort;
    t.blur[i] = f.blur;
    if (f.pose) t.pose.set([f.pose.yaw, f.pose.pitch, f.pose.roll], i * 3);
    if (!shared) t.embeddings.data.set(f.embedding, i * dim);
  });
  return { table: t, faces };
}

/** Row i as a face record (its embedding a view into the table, not a copy). */
export function tableFace(t: FaceTable, i: number): Face & { sha256: string; faceIndex: number } {
  const b = t.box, k = t.kps, dim = t.embeddings.dim, yaw = t.pose[i * 3]!;
  const p = (j: number): Point => [k[i * 10 + 2 * j]!, k[i * 10 + 2 * j + 1]!];
  return {
    sha256: t.shas[t.source[i]!]!,
    faceIndex: t.faceIndex[i]!,
    box: [b[i * 4]!, b[i * 4 + 1]!, b[i * 4 + 2]!, b[i * 4 + 3]!] as Box,
    kps: [p(0), p(1), p(2), p(3), p(4)],
    detScore: t.detScore[i]!,
    faceShort: t.faceShort[i]!,
    blur: t.blur[i]!,
    embedding: t.embeddings.data.subarray(i * dim, (i + 1) * dim),
    ...(Number.isNaN(yaw) ? {} : { pose: { yaw, pitch: t.pose[i * 3 + 1]!, roll: t.pose[i * 3 + 2]! } }),
  };
}
