// Coverage as pure steps: match folder members to face records, route bucket faces to identities honouring decisions.
import type { Box } from '../engine/types';
import { cosineDistance } from '../clustering/vectors';

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

export interface DecidedIdentity {
  centroid: Float32Array | null;
  /** sha256:faceIndex of faces rejected from it: never routed to it. */
  rejected: ReadonlySet<string>;
}

export interface DecidedRoute {
  /** The identity that covers the face, or -1. */
  identity: number;
  /** True when the face is a member of that identity already (it is not added again). */
  member: boolean;
  /** True when a person took the face out of discovery (rejected, or in a retired identity): never clustered. */
  held: boolean;
  distance: number;
}

/**
 * Routing that honours decisions: a member stays with its identity; any other face goes to the nearest centroid
 * within `threshold` among identities that did not reject it (ties to the lower index); faces neither routed nor
 * members are `held` when a person took them out, else free for discovery.
 */
export function routeWithDecisions(
  faces: readonly { sha256: string; faceIndex: number; embedding: Float32Array }[],
  identities: readonly DecidedIdentity[],
  memberOf: ReadonlyMap<string, number>,
  held: ReadonlySet<string>,
  threshold: number,
): DecidedRoute[] {
  return faces.map((f) => {
    const key = `${f.sha256}:${f.faceIndex}`;
    const own = memberOf.get(key);
    if (own !== undefined) {
      const c = identities[own]!.centroid;
      return { identity: own, member: true, held: false, distance: c ? cosineDistance(f.embedding, c) : 0 };
    }
    let best = -1;
    let bestD = Infinity;
    identities.forEach((i, idx) => {
      if (!i.centroid || i.rejected.has(key)) return;
      const d = cosineDistance(f.embedding, i.centroid);
      if (d < bestD) {
        bestD = d;
        best = idx;
      }
    });
    const routed = bestD <= threshold ? best : -1;
    return { identity: routed, member: false, held: routed < 0 && held.has(key), distance: bestD };
  });
}
