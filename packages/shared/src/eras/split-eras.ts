// Era splits of one identity: by capture date, by appearance (tighter average linkage), or auto (both).
import { clusterByAverageLinkage } from '../clustering/linkage';
import { facesetName, nextFacesetNumber } from '../export/numbering';
import { jsDotKernel, type DotKernel } from '../clustering/threshold-graph';
import { centroid, cosineDistance, packEmbeddings } from '../clustering/vectors';
import type { JobParams } from '../params';
import { groupByDate } from './date-eras';

export type EraBy = 'date' | 'appearance' | 'auto';

/** What an era split needs of a face: its source (faces of one photo never share an appearance era), looks, date. */
export interface EraFace {
  sha256: string;
  embedding: Float32Array;
  capturedAt: Date | null;
}

export interface EraPlan<F extends EraFace> {
  by: EraBy;
  /** First and last capture time among the members (null when none is dated). */
  from: Date | null;
  to: Date | null;
  members: F[];
}

export interface EraSplit<F extends EraFace> {
  /** In era order (see orderEras). */
  eras: EraPlan<F>[];
  /** Faces no era took (undated faces of a `date` split): they stay in the parent only. */
  unplaced: F[];
}

export type EraParams = Pick<JobParams, 'eraGapYears' | 'eraThreshold'>;

/**
 * Splits one identity's faces into eras.
 * - `date`: spans of capture time separated by at least `eraGapYears`; undated faces form no era.
 * - `appearance`: average linkage at `eraThreshold` among the identity's faces (two faces of one photo never in one
 *   era), for photos without dates.
 * - `auto`: date spans for the dated faces; each undated face joins the span whose centroid is nearest; with no
 *   dated face at all, appearance eras.
 */
export async function splitEras<F extends EraFace>(
  faces: readonly F[],
  by: EraBy,
  params: EraParams,
  kernel: DotKernel = jsDotKernel,
): Promise<EraSplit<F>> {
  if (by === 'appearance') return { eras: orderEras(await appearanceEras(faces, by, params.eraThreshold, kernel)), unplaced: [] };
  const { spans, undated } = groupByDate(faces, (f) => f.capturedAt, params.eraGapYears);
  const eras: EraPlan<F>[] = spans.map((s) => ({ by, from: s.from, to: s.to, members: s.members }));
  if (by === 'date') return { eras, unplaced: undated };
  if (!eras.length) return { eras: orderEras(await appearanceEras(faces, by, params.eraThreshold, kernel)), unplaced: [] };
  // Centroids of the dated members only, so where one undated face lands never depends on another.
  const centroids = eras.map((e) => centroid(e.members.map((f) => f.embedding)));
  for (const f of undated) {
    let best = 0;
    centroids.forEach((c, i) => {
      if (cosineDistance(f.embedding, c) < cosineDistance(f.embedding, centroids[best]!)) best = i;
    });
    eras[best]!.members.push(f);
  }
  return { eras, unplaced: [] };
}

async function appearanceEras<F extends EraFace>(faces: readonly F[], by: EraBy, threshold: number, kernel: DotKernel): Promise<EraPlan<F>[]> {
  if (!faces.length) return [];
  const ids = new Map<string, number>();
  const sources = faces.map((f) => {
    let id = ids.get(f.sha256);
    if (id === undefined) ids.set(f.sha256, (id = ids.size));
    return id;
  });
  const clusters = await clusterByAverageLinkage(packEmbeddings(faces.map((f) => f.embedding)), sources, threshold, kernel);
  return clusters.map((c) => {
    const members = c.map((i) => faces[i]!);
    const times = members.flatMap((f) => (f.capturedAt ? [f.capturedAt.getTime()] : []));
    return {
      by,
      from: times.length ? new Date(Math.min(...times)) : null,
      to: times.length ? new Date(Math.max(...times)) : null,
      members,
    };
  });
}

/**
 * The order eras are numbered in: oldest first by `from`, undated eras after the dated ones, larger before smaller,
 * then by first member's source. Stable for the same faces, so a re-run numbers the same way.
 */
export function orderEras<F extends EraFace>(eras: readonly EraPlan<F>[]): EraPlan<F>[] {
  const key = (e: EraPlan<F>) => e.members.map((f) => f.sha256).sort()[0] ?? '';
  return [...eras].sort((a, b) => {
    if (a.from && b.from && a.from.getTime() !== b.from.getTime()) return a.from.getTime() - b.from.getTime();
    if (!a.from !== !b.from) return a.from ? -1 : 1;
    return b.members.length - a.members.length || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  });
}

/** Names for the eras, in era order, continuing after the largest faceset number in `used` (`_thin/` included). */
export function numberEras<F extends EraFace>(eras: readonly EraPlan<F>[], used: Iterable<string>): { name: string; era: EraPlan<F> }[] {
  const first = nextFacesetNumber(used);
  return orderEras(eras).map((era, i) => ({ name: facesetName(first + i), era }));
}

/** The `era` block of an era's faceset.json and manifest entry: how it was split and its span (calendar dates). */
export function eraDescriptor(e: Pick<EraPlan<EraFace>, 'by' | 'from' | 'to'>): { by: EraBy; from: string | null; to: string | null } {
  const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : null);
  return { by: e.by, from: day(e.from), to: day(e.to) };
}
