// Discovery as a pure computation: cluster uncovered faces, gate, reject outliers, keep, and plan each export.
import type { JobParams } from '../params';
import type { DiscoveryReport } from '../report/types';
import { applyGates, type GateName } from './gates';
import { clusterByAverageLinkage } from './linkage';
import { rejectOutliers } from './outliers';
import { jsDotKernel, type DotKernel } from './threshold-graph';
import { compareFaces, type DiscoveryFace } from './types';
import { packEmbeddings } from './vectors';

/** How many raw cluster sizes the report lists. */
export const TOP_SIZES = 10;

export type DiscoveryParams = Pick<
  JobParams,
  | 'clusterThreshold'
  | 'minFaceShort'
  | 'minBlur'
  | 'minDetScore'
  | 'outlierThreshold'
  | 'minFaces'
  | 'exportMinFaceShort'
  | 'exportOutlierThreshold'
>;

export interface PlannedMember {
  face: DiscoveryFace;
  /** Cosine distance to the centroid of the planned members. */
  distance: number;
}

/** One kept cluster and what the export gates leave of it; `members` empty means it is skipped. */
export interface ExportPlan {
  /** Faces of the kept cluster (after discovery gates and outliers): what the set is ordered by. */
  inputFaces: number;
  sources: number;
  exportGateDropped: number;
  outliersDropped: number;
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

const distinctSources = (faces: readonly DiscoveryFace[]): number => new Set(faces.map((f) => f.sha256)).size;

export async function discover(
  input: readonly DiscoveryFace[],
  params: DiscoveryParams,
  kernel: DotKernel = jsDotKernel,
): Promise<ClusteringResult> {
  const faces = [...input].sort(compareFaces);
  const sourceIds = new Map<string, number>();
  const sources = faces.map((f) => {
    let id = sourceIds.get(f.sha256);
    if (id === undefined) sourceIds.set(f.sha256, (id = sourceIds.size));
    return id;
  });
  const m = packEmbeddings(
    faces.map((f) => f.embedding),
    faces[0]?.embedding.length ?? 0,
  );
  const raw = await clusterByAverageLinkage(m, sources, params.clusterThreshold, kernel);

  const gateDropped: Record<GateName, number> = { minFaceShort: 0, minBlur: 0, minDetScore: 0 };
  let outliersDropped = 0;
  let tooFewSources = 0;
  const kept: DiscoveryFace[][] = [];
  for (const cluster of raw) {
    const gated = applyGates(
      cluster.map((i) => faces[i]!),
      { minFaceShort: params.minFaceShort, minBlur: params.minBlur, minDetScore: params.minDetScore },
    );
    for (const g of Object.keys(gateDropped) as GateName[]) gateDropped[g] += gated.dropped[g];
    const out = rejectOutliers(gated.kept.map((f) => f.embedding), params.outlierThreshold);
    outliersDropped += out.dropped.length;
    const survivors = out.kept.map((i) => gated.kept[i]!);
    if (distinctSources(survivors) >= params.minFaces) kept.push(survivors);
    else tooFewSources++;
  }
  kept.sort((a, b) => b.length - a.length || compareFaces(a[0]!, b[0]!));

  return {
    report: {
      faces: faces.length,
      rawClusters: raw.length,
      topSizes: raw.slice(0, TOP_SIZES).map((c) => c.length),
      gateDropped,
      outliersDropped,
      tooFewSources,
      clustersKept: kept.length,
    },
    plans: kept.map((cluster) => planExport(cluster, params)),
  };
}

/** The export gates of one kept cluster: faceShort ≥ exportMinFaceShort, then outliers at exportOutlierThreshold. */
export function planExport(
  cluster: readonly DiscoveryFace[],
  params: Pick<DiscoveryParams, 'exportMinFaceShort' | 'exportOutlierThreshold'>,
): ExportPlan {
  const gated = applyGates(cluster, { minFaceShort: params.exportMinFaceShort });
  const out = rejectOutliers(gated.kept.map((f) => f.embedding), params.exportOutlierThreshold);
  return {
    inputFaces: cluster.length,
    sources: distinctSources(cluster),
    exportGateDropped: gated.dropped.minFaceShort,
    outliersDropped: out.dropped.length,
    members: out.kept.map((i, k) => ({ face: gated.kept[i]!, distance: out.distances[k]! })),
    centroid: out.centroid,
  };
}
