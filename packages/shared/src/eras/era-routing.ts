// Routing with eras: a face that reaches a person goes to the nearest of that person's eras, the parent as fallback.
import { cosineDistance } from '../clustering/vectors';

export interface RoutedIdentity {
  id: string;
  /** The parent identity's id, for an era. */
  parentId: string | null;
  centroid: Float32Array | null;
  /** sha256:faceIndex of faces rejected from it. */
  rejected: ReadonlySet<string>;
}

export interface Route {
  identity: number;
  member: boolean;
  distance: number;
}

/**
 * For each route to a person (an identity or one of its eras) that is not a membership: the era of that person whose
 * centroid is nearest the face, when within `threshold` and the era did not reject it; otherwise the parent itself.
 * `parentOf[i]` is returned for the era a face goes to, so the caller can add it to the parent too (an era's faces
 * are its parent's). Routes elsewhere are returned as they are.
 */
export function routeToEras<R extends Route>(
  faces: readonly { sha256: string; faceIndex: number; embedding: Float32Array }[],
  identities: readonly RoutedIdentity[],
  routes: readonly R[],
  threshold: number,
): (R & { parent: number | null })[] {
  const index = new Map(identities.map((i, k) => [i.id, k]));
  const eras = new Map<string, number[]>();
  identities.forEach((i, k) => {
    if (!i.parentId || !i.centroid) return;
    const list = eras.get(i.parentId);
    if (list) list.push(k);
    else eras.set(i.parentId, [k]);
  });
  return routes.map((r, n) => {
    if (r.identity < 0 || r.member) return { ...r, parent: null };
    const hit = identities[r.identity]!;
    const parentId = hit.parentId ?? hit.id;
    const family = eras.get(parentId);
    const parent = index.get(parentId) ?? null;
    if (!family) return { ...r, parent: null };
    const f = faces[n]!;
    const key = `${f.sha256}:${f.faceIndex}`;
    let best = -1;
    let bestD = Infinity;
    for (const k of family) {
      const e = identities[k]!;
      if (e.rejected.has(key)) continue;
      const d = cosineDistance(f.embedding, e.centroid!);
      if (d < bestD) [best, bestD] = [k, d];
    }
    if (best >= 0 && bestD <= threshold) return { ...r, identity: best, distance: bestD, parent };
    if (parent === null) return { ...r, parent: null };
    const c = identities[parent]!.centroid;
    return { ...r, identity: parent, distance: c ? cosineDistance(f.embedding, c) : r.distance, parent: null };
  });
}
