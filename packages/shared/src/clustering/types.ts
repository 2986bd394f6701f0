// The face records discovery works on: an engine face plus the source it came from and every path of that source.
import type { Face } from '../engine/types';

export interface DiscoveryFace extends Face {
  sha256: string;
  /** Index of the face within its source, as recorded (stable across re-reads of the cache). */
  faceIndex: number;
  /** Every path of this content within the bucket (byte-duplicates included), sorted; the first names the crop. */
  paths: string[];
}

/** A face record matched by (sha256, box); `paths` may be unknown for members of existing sets. */
export type StoredFace = Omit<DiscoveryFace, 'paths'> & { paths?: string[] };

export const faceKey = (f: { sha256: string; faceIndex: number }): string => `${f.sha256}:${f.faceIndex}`;

/** Deterministic order of faces: by source content, then face index. */
export function compareFaces(a: { sha256: string; faceIndex: number }, b: { sha256: string; faceIndex: number }): number {
  return a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : a.faceIndex - b.faceIndex;
}
