// Discovery as a pure computation on face records: the columnar discovery of clustering/, mapped back to the faces.
import type { CandidateOptions } from './candidates';
import { discoverTable, planRows, type DiscoveryParams, type LinkageRunner, type RowPlan } from './discover-table';
import { faceTableOf } from './face-table';
import type { DiscoveryReport } from '../report/types';
import { jsDotKernel, type DotKernel } from './threshold-graph';
import type { DiscoveryFace } from './types';

export { TOP_SIZES, type DiscoveryParams } from './discover-table';

export interface PlannedMember {
  face: DiscoveryFace;
  /** Cosine distance to the centroid of the planned members. */
  distance: number;
}

/** One kept cluster and what the export gates leave of it; `members` empty means it is skipped. */
export interface ExportPlan extends Omit<RowPlan, 'members'> {
  members: PlannedMember[];
  centroid: Float32Array | null;
  /** Keys written into the set's faceset.json and manifest entry besides the usual ones (label, parent, era). */
  extra?: FacesetExtra;
}

/** What an imported identity or an era carries beyond a discovered set. */
export interface FacesetExtra {
  /** A human name (an imported folder's name). */
  label?: string;
  /** An era's parent identity (faceset_NNN). */
  parent?: string;
  /** How an era was split and its span (calendar dates, null when undated). */
  era?: { by: 'date' | 'appearance' | 'auto'; from: string | null; to: string | null };
}

export interface ClusteringResult {
  report: Omit<DiscoveryReport, 'facesets'>;
  /** Kept clusters, largest first (ties: the smaller first member by sha256, face index). */
  plans: ExportPlan[];
}

export async function discover(
  input: readonly DiscoveryFace[],
  params: DiscoveryParams,
  kernel: DotKernel = jsDotKernel,
  candidates: CandidateOptions = {},
  link?: LinkageRunner,
): Promise<ClusteringResult> {
  const { table, faces } = faceTableOf(input);
  const found = await discoverTable(table, params, kernel, candidates, link);
  return {
    report: found.report,
    plans: found.plans.map((p) => ({ ...p, members: p.members.map((m) => ({ face: faces[m.row]!, distance: m.distance })) })),
  };
}

/** The export gates of one set of faces (an imported folder's, an era's): the same planRows discovery uses. */
export function planExport(
  cluster: readonly DiscoveryFace[],
  params: Pick<DiscoveryParams, 'exportMinFaceShort' | 'exportOutlierThreshold'>,
): ExportPlan {
  const { table, faces } = faceTableOf(cluster);
  const plan = planRows(table, faces.map((_, i) => i), params);
  return { ...plan, members: plan.members.map((m) => ({ face: faces[m.row]!, distance: m.distance })) };
}
