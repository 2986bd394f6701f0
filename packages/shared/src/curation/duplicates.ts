// Near-duplicate shots inside one identity: which faces are the same moment photographed again (a resized,
// re-compressed, cropped, brightened or converted copy, a burst frame), and which one of each shot is kept.
import { pairsAtLeastJs } from '../clustering/threshold-graph';
import { cosineDistance, packEmbeddings } from '../clustering/vectors';
import type { Pose } from './pose';
import { shotSimilarity } from './shot-thumb';

/** What the rule needs of a face. */
export interface ShotFace {
  embedding: Float32Array;
  shot: Uint8Array;
  pose: Pose;
}

export interface ShotEvidence {
  /** Cosine distance of the embeddings. */
  distance: number;
  /** Normalised cross-correlation of the shot thumbnails (curation/shot-thumb.ts). */
  similarity: number;
  /** Larger of |Δyaw| and |Δpitch|, degrees (roll is left out: a tilted copy is the same shot, and the thumbnails are aligned). */
  poseDelta: number;
}

export interface DedupeThresholds {
  maxDistance: number;
  minSimilarity: number;
  /**
   * The thumbnail correlation a mirrored copy needs, the thumbnail flipped: lower, because aligning a flipped face is
   * not exactly the flip of aligning it (the ArcFace template and the landmarks are not symmetric to the pixel).
   */
  minMirrorSimilarity: number;
  maxPoseDelta: number;
}

/** Measured on the fixtures by `npm run bench:dedupe -- --pairs` (README, "Near-duplicate shots"). */
export const DEFAULT_DEDUPE: DedupeThresholds = { maxDistance: 0.1, minSimilarity: 0.9, minMirrorSimilarity: 0.8, maxPoseDelta: 8 };

export function shotEvidence(a: ShotFace, b: ShotFace): ShotEvidence {
  const poseDelta = Math.max(Math.abs(a.pose.yaw - b.pose.yaw), Math.abs(a.pose.pitch - b.pose.pitch));
  return { distance: cosineDistance(a.embedding, b.embedding), similarity: shotSimilarity(a.shot, b.shot), poseDelta };
}

/** One shot: the same face (embedding), the same picture of it (thumbnail) and the same head pose, all three. */
export function sameShot(e: ShotEvidence, t: DedupeThresholds = DEFAULT_DEDUPE): boolean {
  return e.distance <= t.maxDistance && e.similarity >= t.minSimilarity && e.poseDelta <= t.maxPoseDelta;
}

/** The face as its mirror image would show it: thumbnail flipped left to right, yaw and roll negated. */
export function mirrored(f: ShotFace): ShotFace {
  const side = Math.round(Math.sqrt(f.shot.length));
  const shot = new Uint8Array(f.shot.length);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) shot[y * side + x] = f.shot[y * side + side - 1 - x]!;
  return { embedding: f.embedding, shot, pose: { yaw: -f.pose.yaw, pitch: f.pose.pitch, roll: -f.pose.roll } };
}

/** One shot as it is, or one of them mirrored (a flipped copy is the same moment photographed). */
export function sameShotEither(a: ShotFace, b: ShotFace, t: DedupeThresholds = DEFAULT_DEDUPE): boolean {
  return sameShot(shotEvidence(a, b), t) || sameShot(shotEvidence(a, mirrored(b)), { ...t, minSimilarity: t.minMirrorSimilarity });
}

/** A face of one identity as shot grouping sees it; faces without evidence (not measured yet) are shots of their own. */
export interface ShotCandidate {
  key: string;
  sha256: string;
  /** Size of the face in its photo, px, whatever its tilt (faceSize). */
  size: number;
  blur: number;
  evidence?: ShotFace | undefined;
}

/**
 * Faces within this fraction of the largest count as equally large: a copy 4 % cropped or re-encoded finds a box a
 * few px off, and the sharpest of them should win, not the one whose box came out a pixel wider.
 */
export const SAME_SIZE = 0.05;

/**
 * A face's size for "largest": the RMS distance of its 5 keypoints from their centre, which a tilt does not change
 * (the detector box of a face rotated by 15° is 20 % larger); the box's short side when keypoints are unknown.
 */
export function faceSize(kps: readonly (readonly [number, number])[] | undefined, faceShort: number): number {
  if (!kps || kps.length !== 5) return faceShort;
  const cx = kps.reduce((a, p) => a + p[0], 0) / 5, cy = kps.reduce((a, p) => a + p[1], 0) / 5;
  return Math.sqrt(kps.reduce((a, p) => a + (p[0] - cx) ** 2 + (p[1] - cy) ** 2, 0) / 5);
}

const byKey = (a: ShotCandidate, b: ShotCandidate): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The face a shot keeps: the largest (within SAME_SIZE of it), then the sharpest, then by key (deterministic). */
export function pickShotFace<T extends ShotCandidate>(group: readonly T[]): T {
  const largest = Math.max(...group.map((c) => c.size));
  return group.filter((c) => c.size >= largest * (1 - SAME_SIZE)).sort((a, b) => b.blur - a.blur || byKey(a, b))[0]!;
}

/** The group with its kept face first, the rest largest first, then sharpest. */
function orderShot<T extends ShotCandidate>(group: T[]): T[] {
  const keep = pickShotFace(group);
  return [keep, ...group.filter((c) => c !== keep).sort((a, b) => b.size - a.size || b.blur - a.blur || byKey(a, b))];
}

/**
 * The faces grouped into shots (a pair joins when `sameShotEither`; groups are the connected pairs), each group's
 * kept face (pickShotFace) first, groups by the key of that face. Two faces of one photo are never one shot.
 */
export function groupShots(faces: readonly ShotCandidate[], t: DedupeThresholds = DEFAULT_DEDUPE): ShotCandidate[][] {
  const parent = faces.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  // Candidate pairs by embedding first (blocked dot products): most pairs of one person are farther apart than a copy.
  const withEvidence = faces.map((_, i) => i).filter((i) => faces[i]!.evidence);
  if (withEvidence.length > 1) {
    const m = packEmbeddings(withEvidence.map((i) => faces[i]!.evidence!.embedding));
    const edges = pairsAtLeastJs(m, 1 - t.maxDistance - 1e-6);
    for (let k = 0; k < edges.length; k++) {
      const i = withEvidence[edges.a[k]!]!, j = withEvidence[edges.b[k]!]!;
      const a = faces[i]!, b = faces[j]!;
      if (a.sha256 === b.sha256 || find(i) === find(j)) continue;
      if (sameShotEither(a.evidence!, b.evidence!, t)) parent[find(j)] = find(i);
    }
  }
  const groups = new Map<number, ShotCandidate[]>();
  faces.forEach((f, i) => {
    const r = find(i);
    const g = groups.get(r);
    if (g) g.push(f);
    else groups.set(r, [f]);
  });
  return [...groups.values()].map(orderShot).sort((x, y) => byKey(x[0]!, y[0]!));
}
