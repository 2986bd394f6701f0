// Discovery as a pure computation on face records: the columnar discovery of clustering/, mapped back to the faces.
import type { CandidateOptions } from './candidates';
import { discoverTable, type DiscoveryParams, type LinkageRunner, type RowPlan } from './discover-table';
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
