// Which face of each photo in a hand-sorted folder is the folder's person: a consensus, then the face nearest it.
import { averageLinkage } from '../clustering/linkage';
import { pairsAtLeastJs } from '../clustering/threshold-graph';
import { centroid, cosineDistance, packEmbeddings } from '../clustering/vectors';
import type { LeftOutReason } from '../report/types';

/** One photo (one distinct source) filed in the folder, with every face recorded for it. */
export interface FolderPhoto<F extends { embedding: Float32Array }> {
  /** Stable id of the photo (its sha256); the report names it by `path`. */
  id: string;
  path: string;
  faces: readonly F[];
}

/** Where the consensus came from: the folder's single-face photos, or (failing that) all of its photos. */
export type ConsensusBasis = 'single-face photos' | 'all photos';

export interface TakenFace<F> {
  photo: string;
  path: string;
  face: F;
  /** Cosine distance to the folder's final consensus centroid. */
  distance: number;
  /** Faces the photo held (1 for a portrait). */
  among: number;
}

/** Why the selection left a photo out (the report adds `unreadable` for photos that never decoded). */
export type SelectionReason = Exclude<LeftOutReason, 'unreadable'>;

export interface LeftOutPhoto {
  photo: string;
  path: string;
  reason: SelectionReason;
  /** `disagrees`: distance of the photo's nearest face to the consensus (above the threshold). */
  distance?: number;
  faces: number;
}

export interface FolderSelection<F> {
  /** null when no consensus could be formed (nothing taken then). */
  basis: ConsensusBasis | null;
  centroid: Float32Array | null;
  taken: TakenFace<F>[];
  leftOut: LeftOutPhoto[];
}

/**
 * Picks the folder's person in every photo. The consensus is the largest group of agreeing faces (average linkage
 * at `threshold`, faces of one photo never together): first among the single-face photos, taken when at least two
 * of them agree and no other group is as large; otherwise among all faces of all photos, the group spanning the
 * most photos (ties: more single-face photos, then the earlier photo). A group spanning a single photo is no
 * consensus in a folder of several photos. Each photo then gives its face nearest the consensus centroid when that
 * is within `threshold` — so a larger stranger beside the person is never taken — and is left out otherwise, with
 * the distance. The centroid is rebuilt once from the faces taken and the choice made again, so the consensus
 * rests on every agreeing photo, not only on the seed group.
 */
export function selectFolderFaces<F extends { embedding: Float32Array }>(
  photos: readonly FolderPhoto<F>[],
  threshold: number,
): FolderSelection<F> {
  const withFaces = photos.filter((p) => p.faces.length > 0);
  const noFace: LeftOutPhoto[] = photos
    .filter((p) => p.faces.length === 0)
    .map((p) => ({ photo: p.id, path: p.path, reason: 'no face', faces: 0 }));
  const seed = consensusSeed(withFaces, threshold);
  if (!seed) {
    const none = withFaces.map((p): LeftOutPhoto => ({ photo: p.id, path: p.path, reason: 'no consensus', faces: p.faces.length }));
    return { basis: null, centroid: null, taken: [], leftOut: sortByPath([...noFace, ...none]) };
  }
  let pick = pickNearest(withFaces, seed.centroid, threshold);
  if (pick.taken.length) {
    const refined = centroid(pick.taken.map((t) => t.face.embedding));
    pick = { ...pickNearest(withFaces, refined, threshold), centroid: refined };
  }
  return { basis: seed.basis, centroid: pick.centroid, taken: pick.taken, leftOut: sortByPath([...noFace, ...pick.leftOut]) };
}

interface Seed {
  basis: ConsensusBasis;
  centroid: Float32Array;
}

function consensusSeed<F extends { embedding: Float32Array }>(photos: readonly FolderPhoto<F>[], threshold: number): Seed | null {
  const singles = photos.filter((p) => p.faces.length === 1);
  const fromSingles = largestGroups(singles.map((p, i) => ({ embedding: p.faces[0]!.embedding, photo: i })), threshold);
  const [first, second] = fromSingles;
  if (first && first.length >= 2 && (!second || second.length < first.length)) {
    return { basis: 'single-face photos', centroid: centroid(first.map((f) => f.embedding)) };
  }
  const all = photos.flatMap((p, i) => p.faces.map((f) => ({ embedding: f.embedding, photo: i })));
  const groups = largestGroups(all, threshold);
  const singleCount = (g: { photo: number }[]) => g.filter((f) => photos[f.photo]!.faces.length === 1).length;
  // Within a group each photo appears once (cannot-link), so its size is the number of photos it spans.
  groups.sort((a, b) => b.length - a.length || singleCount(b) - singleCount(a) || a[0]!.photo - b[0]!.photo);
  const best = groups[0];
  if (!best || (best.length < 2 && photos.length > 1)) return null;
  // A folder of one photo: its only face, or nothing to tell several faces apart by.
  if (best.length < 2 && photos[0]!.faces.length > 1) return null;
  return { basis: 'all photos', centroid: centroid(best.map((f) => f.embedding)) };
}

/** Average-linkage groups of the faces (same photo never together), largest first, ties by first member. */
function largestGroups<T extends { embedding: Float32Array; photo: number }>(faces: readonly T[], threshold: number): T[][] {
  if (!faces.length) return [];
  const m = packEmbeddings(faces.map((f) => f.embedding));
  // A folder is small: every pair is a candidate (extra pairs are harmless to the linkage).
  const edges = pairsAtLeastJs(m, -Infinity);
  const clusters = averageLinkage({ m, sources: faces.map((f) => f.photo), threshold, edges });
  return clusters.map((c) => c.map((i) => faces[i]!));
}

function pickNearest<F extends { embedding: Float32Array }>(
  photos: readonly FolderPhoto<F>[],
  c: Float32Array,
  threshold: number,
): { centroid: Float32Array; taken: TakenFace<F>[]; leftOut: LeftOutPhoto[] } {
  const taken: TakenFace<F>[] = [];
  const leftOut: LeftOutPhoto[] = [];
  for (const p of photos) {
    let best = -1;
    let bestD = Infinity;
    p.faces.forEach((f, i) => {
      const d = cosineDistance(f.embedding, c);
      if (d < bestD) [best, bestD] = [i, d];
    });
    if (bestD <= threshold) taken.push({ photo: p.id, path: p.path, face: p.faces[best]!, distance: bestD, among: p.faces.length });
    else leftOut.push({ photo: p.id, path: p.path, reason: 'disagrees', distance: bestD, faces: p.faces.length });
  }
  return { centroid: c, taken, leftOut };
}

const sortByPath = (list: LeftOutPhoto[]): LeftOutPhoto[] => list.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
