// Near-duplicate shots inside one identity: which faces are the same moment photographed again (a resized,
// re-compressed, cropped, brightened or converted copy, a burst frame), and which one of each shot is kept.
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
  maxPoseDelta: number;
}

/** Measured on the fixtures by `npm run bench:dedupe -- --pairs` (README, "Near-duplicate shots"). */
export const DEFAULT_DEDUPE: DedupeThresholds = { maxDistance: 0.1, minSimilarity: 0.9, maxPoseDelta: 8 };

export function shotEvidence(a: ShotFace, b: ShotFace): ShotEvidence {
  let dot = 0;
  for (let i = 0; i < a.embedding.length; i++) dot += a.embedding[i]! * b.embedding[i]!;
  const poseDelta = Math.max(Math.abs(a.pose.yaw - b.pose.yaw), Math.abs(a.pose.pitch - b.pose.pitch));
  return { distance: 1 - dot, similarity: shotSimilarity(a.shot, b.shot), poseDelta };
}

/** One shot: the same face (embedding), the same picture of it (thumbnail) and the same head pose, all three. */
export function sameShot(e: ShotEvidence, t: DedupeThresholds = DEFAULT_DEDUPE): boolean {
  return e.distance <= t.maxDistance && e.similarity >= t.minSimilarity && e.poseDelta <= t.maxPoseDelta;
}

/** A face of one identity as shot grouping sees it; faces without evidence (not measured yet) are shots of their own. */
export interface ShotCandidate {
  key: string;
  sha256: string;
  faceShort: number;
  blur: number;
  evidence?: ShotFace | undefined;
}

/** Largest first, then sharpest, then by key (deterministic): the face a shot keeps. */
export function betterShotFace(a: ShotCandidate, b: ShotCandidate): number {
  return b.faceShort - a.faceShort || b.blur - a.blur || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/**
 * The faces grouped into shots (a pair joins when `sameShot`; groups are the connected pairs), each group in
 * betterShotFace order, groups in the order of their best face. Two faces of one photo are never one shot.
 */
export function groupShots(faces: readonly ShotCandidate[], t: DedupeThresholds = DEFAULT_DEDUPE): ShotCandidate[][] {
  const parent = faces.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  // Pairs are looked at in yaw order and only within maxPoseDelta of yaw, pitch checked before anything costlier.
  const order = faces.map((_, i) => i).filter((i) => faces[i]!.evidence).sort((x, y) => faces[x]!.evidence!.pose.yaw - faces[y]!.evidence!.pose.yaw);
  for (let oi = 0; oi < order.length; oi++) {
    const i = order[oi]!, a = faces[i]!, ea = a.evidence!;
    for (let oj = oi + 1; oj < order.length; oj++) {
      const j = order[oj]!, b = faces[j]!, eb = b.evidence!;
      if (eb.pose.yaw - ea.pose.yaw > t.maxPoseDelta) break;
      if (Math.abs(eb.pose.pitch - ea.pose.pitch) > t.maxPoseDelta || a.sha256 === b.sha256 || find(i) === find(j)) continue;
      if (sameShot(shotEvidence(ea, eb), t)) parent[find(j)] = find(i);
    }
  }
  const groups = new Map<number, ShotCandidate[]>();
  faces.forEach((f, i) => {
    const r = find(i);
    const g = groups.get(r);
    if (g) g.push(f);
    else groups.set(r, [f]);
  });
  return [...groups.values()].map((g) => g.sort(betterShotFace)).sort((x, y) => betterShotFace(x[0]!, y[0]!));
}
