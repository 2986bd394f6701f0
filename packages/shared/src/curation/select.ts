// The best N faces of a set: cover the pose space (yaw × pitch bins) first, then sharpness and size inside a bin.
import type { Pose } from './pose';

/** Width of a yaw and of a pitch bin, degrees: 15° steps tell frontal, three-quarter and profile apart. */
export const POSE_BIN_DEGREES = 15;

export interface SelectCandidate {
  key: string;
  faceShort: number;
  blur: number;
  pose?: Pose | undefined;
  /** Assigned by a person: always kept, and counted in N. */
  pinned?: boolean;
}

/** The yaw × pitch bin of a pose (`?` when unknown). */
export function poseBin(pose: Pose | undefined): string {
  if (!pose) return '?';
  const b = (v: number): number => Math.floor((v + POSE_BIN_DEGREES / 2) / POSE_BIN_DEGREES);
  return `${b(pose.yaw)},${b(pose.pitch)}`;
}

/** Sharpest first, then largest, then by key. */
function better(a: SelectCandidate, b: SelectCandidate): number {
  return b.blur - a.blur || b.faceShort - a.faceShort || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/**
 * Keys of at most n faces (more only when more are pinned): pinned faces first, then round after round one face per
 * bin — bins no kept face covers yet first, each bin's best face next — so the first rounds spread over every pose
 * there is. Bins are visited in the order of their best remaining face.
 */
export function selectBest(faces: readonly SelectCandidate[], n: number): Set<string> {
  const kept = new Set(faces.filter((f) => f.pinned).map((f) => f.key));
  const covered = new Set(faces.filter((f) => f.pinned).map((f) => poseBin(f.pose)));
  const bins = new Map<string, SelectCandidate[]>();
  for (const f of faces) {
    if (f.pinned) continue;
    const b = poseBin(f.pose);
    const list = bins.get(b);
    if (list) list.push(f);
    else bins.set(b, [f]);
  }
  for (const list of bins.values()) list.sort(better);
  while (kept.size < n && bins.size > 0) {
    const order = [...bins.entries()].sort(
      ([ka, a], [kb, b]) => Number(covered.has(ka)) - Number(covered.has(kb)) || better(a[0]!, b[0]!),
    );
    for (const [bin, list] of order) {
      if (kept.size >= n) break;
      kept.add(list.shift()!.key);
      covered.add(bin);
      if (!list.length) bins.delete(bin);
    }
  }
  return kept;
}
