// Curation of one identity: which members are exported (one face per shot, at most maxFaces covering the poses) and
// which are left out, with the reason. Decisions win: an assigned face is always exported.
import { DEFAULT_DEDUPE, groupShots, type DedupeThresholds, type ShotFace } from './duplicates';
import type { Pose } from './pose';
import { selectBest } from './select';

export interface CurationMember {
  /** `sha256:faceIndex`. */
  key: string;
  sha256: string;
  faceIndex: number;
  /** The PNG name the face has (or would have) in the set: the `<file>` of a near-duplicate's reason. */
  png: string;
  /** Size in its photo, px, tilt-independent (duplicates.ts faceSize): "largest" of a shot. */
  size: number;
  faceShort: number;
  blur: number;
  pose?: Pose | undefined;
  /** Embedding, shot thumbnail and pose; without them a face is a shot of its own. */
  evidence?: ShotFace | undefined;
  /** Assigned by a person: exported whatever curation says. */
  pinned: boolean;
}

export interface LeftOut {
  key: string;
  sha256: string;
  faceIndex: number;
  /** `near-duplicate of <png>` or `maxFaces`. */
  reason: string;
  /** Key of the exported face of the same shot. */
  duplicateOf?: string;
}

export interface CurationOptions {
  dedupe: boolean;
  maxFaces?: number | undefined;
  thresholds?: DedupeThresholds;
}

export interface Curation {
  /** Keys of the members exported as PNGs. */
  exported: Set<string>;
  /** The other members, in member order. */
  left: LeftOut[];
  /** Pose of every member that has one, by key (members recorded before pose existed get it from their face record). */
  poses: Map<string, Pose>;
}

export const MAX_FACES_REASON = 'maxFaces';
export const nearDuplicateReason = (png: string): string => `near-duplicate of ${png}`;

export function curate(members: readonly CurationMember[], opts: CurationOptions): Curation {
  const left = new Map<string, LeftOut>();
  let candidates = [...members];
  if (opts.dedupe) {
    const byKey = new Map(members.map((m) => [m.key, m]));
    const groups = groupShots(members.map((m) => ({ key: m.key, sha256: m.sha256, size: m.size, blur: m.blur, evidence: m.evidence })), opts.thresholds ?? DEFAULT_DEDUPE);
    for (const g of groups) {
      if (g.length < 2) continue;
      // The shot's face: a pinned one when a person assigned one (the first in shot order), else the largest, then sharpest.
      const keep = byKey.get((g.find((c) => byKey.get(c.key)!.pinned) ?? g[0]!).key)!;
      for (const c of g) {
        const m = byKey.get(c.key)!;
        if (m === keep || m.pinned) continue;
        left.set(m.key, { key: m.key, sha256: m.sha256, faceIndex: m.faceIndex, reason: nearDuplicateReason(keep.png), duplicateOf: keep.key });
      }
    }
    candidates = candidates.filter((m) => !left.has(m.key));
  }
  if (opts.maxFaces !== undefined && candidates.length > opts.maxFaces) {
    const kept = selectBest(candidates, opts.maxFaces);
    for (const m of candidates) if (!kept.has(m.key)) left.set(m.key, { key: m.key, sha256: m.sha256, faceIndex: m.faceIndex, reason: MAX_FACES_REASON });
    candidates = candidates.filter((m) => kept.has(m.key));
  }
  const poses = new Map(members.flatMap((m) => (m.pose ? [[m.key, m.pose] as const] : [])));
  return { exported: new Set(candidates.map((m) => m.key)), left: members.filter((m) => left.has(m.key)).map((m) => left.get(m.key)!), poses };
}
