// faceset.json: the member list of one face set, as the export writes it.
import type { Pose } from '../curation/pose';
import type { Box, Point } from '../engine/types';

export const FACESET_FILE = 'faceset.json';

export interface FacesetMember {
  png: string;
  /** Every path of the source file within the bucket. */
  sources: string[];
  sha256: string;
  box: Box;
  kps: Point[];
  detScore: number;
  faceShort: number;
  blur: number;
  /** Cosine distance to the set's centroid when it was written. */
  distance: number;
  /** Head pose in degrees (curation/pose.ts), 0.1° steps; absent for faces measured before it existed. */
  pose?: Pose;
}

export interface FacesetFile {
  name: string;
  /** The bucket the set was discovered in. */
  source: string;
  jobId: string;
  createdAt: string;
  params: Record<string, unknown>;
  /** Imported identities: the folder name; eras: their parent and span (FacesetExtra). */
  label?: string;
  parent?: string;
  era?: { by: 'date' | 'appearance' | 'auto'; from: string | null; to: string | null };
  members: FacesetMember[];
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

/** A member entry with numbers rounded for humans; boxes keep 0.01 px, far inside coverage's 1 px match tolerance. */
export function facesetMember(m: {
  png: string;
  paths: readonly string[];
  sha256: string;
  box: Box;
  kps: readonly Point[];
  detScore: number;
  faceShort: number;
  blur: number;
  distance: number;
  pose?: Pose | undefined;
}): FacesetMember {
  return {
    png: m.png,
    sources: [...m.paths],
    sha256: m.sha256,
    box: m.box.map((v) => round(v, 2)) as Box,
    kps: m.kps.map(([x, y]): Point => [round(x, 2), round(y, 2)]),
    detScore: round(m.detScore, 4),
    faceShort: round(m.faceShort, 2),
    blur: round(m.blur, 2),
    distance: round(m.distance, 4),
    ...(m.pose ? { pose: { yaw: round(m.pose.yaw, 1), pitch: round(m.pose.pitch, 1), roll: round(m.pose.roll, 1) } } : {}),
  };
}

export function serializeFaceset(f: FacesetFile | Record<string, unknown>): string {
  return `${JSON.stringify(f, null, 2)}\n`;
}

/** A member entry's keys in the order facesetMember writes them (entries read back from jsonb come in its order). */
const MEMBER_ORDER = ['png', 'sources', 'sha256', 'box', 'kps', 'detScore', 'faceShort', 'blur', 'distance', 'pose'];

export function orderedMember(entry: Record<string, unknown>): Record<string, unknown> {
  return { ...Object.fromEntries(MEMBER_ORDER.filter((k) => k in entry).map((k) => [k, entry[k]])), ...entry };
}
