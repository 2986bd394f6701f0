// Coverage as pure steps: match existing members to face records, build identity centroids, route bucket faces.
import type { Box } from '../engine/types';
import { centroid, cosineDistance } from '../clustering/vectors';

export interface MemberKey {
  sha256: string;
  box: Box;
}

/** Boxes written by an earlier run may be rounded; members also survive a re-detection that moved a box slightly. */
export const BOX_MAX_ABS_DIFF = 1;
export const BOX_MIN_IOU = 0.9;

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

export function boxesMatch(a: Box, b: Box): boolean {
  const maxDiff = Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
  return maxDiff <= BOX_MAX_ABS_DIFF || iou(a, b) >= BOX_MIN_IOU;
}

/**
 * For each member, the face record of the same sha256 whose box matches best (highest IoU), or undefined.
 * `candidates` may hold any faces; only same-source ones are considered.
 */
export function matchMembers<F extends { sha256: string; box: Box }>(
  members: readonly MemberKey[],
  candidates: readonly F[],
): (F | undefined)[] {
  const bySha = new Map<string, F[]>();
  for (const c of candidates) {
    const list = bySha.get(c.sha256);
    if (list) list.push(c);
    else bySha.set(c.sha256, [c]);
  }
  return members.map((m) => {
    let best: F | undefined;
    let bestIou = -1;
    for (const c of bySha.get(m.sha256) ?? []) {
      if (!boxesMatch(m.box, c.box)) continue;
      const v = iou(m.box, c.box);
      if (v > bestIou) {
        best = c;
        bestIou = v;
      }
    }
    return best;
  });
}

/** Centroid of the matched members, or null when none matched (the identity cannot route anything). */
export function identityCentroid(matched: readonly ({ embedding: Float32Array } | undefined)[]): Float32Array | null {
  const vs = matched.filter((f): f is { embedding: Float32Array } => f !== undefined).map((f) => f.embedding);
  return vs.length ? centroid(vs) : null;
}

export interface Route {
  /** Index of the nearest centroid within the threshold, or -1. */
  identity: number;
  /** Cosine distance to the nearest centroid (Infinity when there is none). */
  distance: number;
}

/** Nearest centroid per face; a face is routed when that distance is ≤ threshold. Ties go to the lower index. */
export function routeFaces(
  faces: readonly { embedding: Float32Array }[],
  centroids: readonly (Float32Array | null)[],
  threshold: number,
): Route[] {
  return faces.map(({ embedding: e }) => {
    let best = -1;
    let bestD = Infinity;
    centroids.forEach((c, i) => {
      if (!c) return;
      const d = cosineDistance(e, c);
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    });
    return { identity: bestD <= threshold ? best : -1, distance: bestD };
  });
}
