// The order the identity page shows faces in, and near-duplicates folded under the face exported for their shot.
import type { IdentityFace } from './api-types';

export type FaceSort = 'listed' | 'uncertain' | 'yaw' | 'pitch' | 'sharpness' | 'size';

/** Yaw and pitch from left to right / down to up (unmeasured last); sharpness and size largest first; stable. */
export function sortFaces(faces: readonly IdentityFace[], sort: Exclude<FaceSort, 'uncertain'>): IdentityFace[] {
  const list = [...faces];
  const by = (key: (f: IdentityFace) => number | null, dir: 1 | -1) =>
    list.sort((a, b) => {
      const x = key(a), y = key(b);
      if (x === null || y === null) return (x === null ? 1 : 0) - (y === null ? 1 : 0);
      return dir * (x - y);
    });
  if (sort === 'yaw') return by((f) => f.pose?.yaw ?? null, 1);
  if (sort === 'pitch') return by((f) => f.pose?.pitch ?? null, 1);
  if (sort === 'sharpness') return by((f) => f.blur, -1);
  if (sort === 'size') return by((f) => f.faceShort, -1);
  return list;
}

export interface FaceGroup {
  face: IdentityFace;
  /** Members left out as near-duplicates of this face, in the order given. */
  duplicates: IdentityFace[];
}

/** Each near-duplicate moves under the face it duplicates (when that face is in the list); the rest keep their place. */
export function foldDuplicates(faces: readonly IdentityFace[]): FaceGroup[] {
  const ids = new Set(faces.map((f) => f.id));
  const under = new Map<string, IdentityFace[]>();
  for (const f of faces) {
    const of = f.left?.duplicateOf;
    if (of && ids.has(of)) under.set(of, [...(under.get(of) ?? []), f]);
  }
  return faces.filter((f) => !(f.left?.duplicateOf && ids.has(f.left.duplicateOf))).map((face) => ({ face, duplicates: under.get(face.id) ?? [] }));
}

/** A pose for a tile: `yaw 12° · pitch −3°`. */
export function poseLabel(f: IdentityFace): string {
  if (!f.pose) return 'pose unknown';
  const deg = (v: number) => `${Math.round(v)}°`.replace('-', '−');
  return `yaw ${deg(f.pose.yaw)} · pitch ${deg(f.pose.pitch)}`;
}
