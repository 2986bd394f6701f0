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

// Readers of member-entry fields as they come back from a faceset.json or the records: untrusted, so each says null
// unless the value has exactly the shape a job writes.
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** A member's box: four finite numbers, x2 > x1 and y2 > y1. */
export function entryBox(v: unknown): Box | null {
  if (!Array.isArray(v) || v.length !== 4 || !v.every(isNum)) return null;
  const [x1, y1, x2, y2] = v as Box;
  return x2 > x1 && y2 > y1 ? [x1, y1, x2, y2] : null;
}

/** A member's five keypoints: five pairs of finite numbers. */
export function entryKps(v: unknown): [Point, Point, Point, Point, Point] | null {
  const ok = Array.isArray(v) && v.length === 5 && v.every((p) => Array.isArray(p) && p.length === 2 && p.every(isNum));
  return ok ? (v as [Point, Point, Point, Point, Point]) : null;
}

/** A member's head pose: yaw, pitch and roll, finite numbers. */
export function entryPose(v: unknown): Pose | null {
  const p = v as Partial<Record<keyof Pose, unknown>> | null;
  return p && typeof p === 'object' && isNum(p.yaw) && isNum(p.pitch) && isNum(p.roll) ? { yaw: p.yaw, pitch: p.pitch, roll: p.roll } : null;
}
