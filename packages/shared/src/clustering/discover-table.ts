// Discovery over a FaceTable: cluster, gate, reject outliers, keep, and plan each export, all by row index.
import { failedGate, type GateName, type QualityGates } from './gates';
import { candidatePairs } from './candidates';
import { averageLinkage, type LinkageInput } from './linkage';
import { rejectOutliers } from './outliers';
import type { DotKernel } from './threshold-graph';
import type { JobParams } from '../params';
import type { DiscoveryReport } from '../report/types';
import type { CandidateOptions } from './candidates';

/** Runs the linkage of a candidate graph: here, or split into parts on other workers (clustering/parts.ts). */
export type LinkageRunner = (input: LinkageInput) => Promise<number[][]>;
import type { FaceTable } from './face-table';

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

/** One kept cluster and what the export gates leave of it, as table rows; `members` empty means it is skipped. */
export interface RowPlan {
  /** Faces of the kept cluster (after discovery gates and outliers): what the set is ordered by. */
  inputFaces: number;
  sources: number;
  exportGateDropped: number;
  outliersDropped: number;
  members: { row: number; distance: number }[];
  centroid: Float32Array | null;
}

export interface TableDiscovery {
  report: Omit<DiscoveryReport, 'facesets'>;
  /** Kept clusters, largest first (ties: the smaller first row, i.e. first member by sha256, face index). */
  plans: RowPlan[];
}

const distinctSources = (t: FaceTable, rows: readonly number[]): number => new Set(rows.map((i) => t.source[i]!)).size;
const embeddingOf = (t: FaceTable, i: number): Float32Array => t.embeddings.data.subarray(i * t.embeddings.dim, (i + 1) * t.embeddings.dim);

/** Rows passing the gates, and how many each gate dropped (first failing gate in GATE_ORDER). */
function gateRows(t: FaceTable, rows: readonly number[], gates: Partial<QualityGates>): { kept: number[]; dropped: Record<GateName, number> } {
  const dropped: Record<GateName, number> = { minFaceShort: 0, minBlur: 0, minDetScore: 0 };
  const kept: number[] = [];
  for (const i of rows) {
    const g = failedGate({ faceShort: t.faceShort[i]!, blur: t.blur[i]!, detScore: t.detScore[i]! }, gates);
    if (g) dropped[g]++;
    else kept.push(i);
  }
  return { kept, dropped };
}

export async function discoverTable(
  t: FaceTable,
  params: DiscoveryParams,
  kernel: DotKernel,
  candidates: CandidateOptions = {},
  link?: LinkageRunner,
): Promise<TableDiscovery> {
  const edges = await candidatePairs(t.embeddings, params.clusterThreshold, kernel, candidates);
  const input: LinkageInput = { m: t.embeddings, sources: t.source, threshold: params.clusterThreshold, edges };
  const raw = link ? await link(input) : averageLinkage(input);
  const gateDropped: Record<GateName, number> = { minFaceShort: 0, minBlur: 0, minDetScore: 0 };
  let outliersDropped = 0;
  let tooFewSources = 0;
  const kept: number[][] = [];
  for (const cluster of raw) {
    const gated = gateRows(t, cluster, { minFaceShort: params.minFaceShort, minBlur: params.minBlur, minDetScore: params.minDetScore });
    for (const g of Object.keys(gateDropped) as GateName[]) gateDropped[g] += gated.dropped[g];
    const out = rejectOutliers(gated.kept.map((i) => embeddingOf(t, i)), params.outlierThreshold);
    outliersDropped += out.dropped.length;
    const survivors = out.kept.map((k) => gated.kept[k]!);
    if (distinctSources(t, survivors) >= params.minFaces) kept.push(survivors);
    else tooFewSources++;
  }
  kept.sort((a, b) => b.length - a.length || a[0]! - b[0]!);
  return {
    report: {
      faces: t.n,
      rawClusters: raw.length,
      topSizes: raw.slice(0, TOP_SIZES).map((c) => c.length),
      gateDropped,
      outliersDropped,
      tooFewSources,
      clustersKept: kept.length,
    },
    plans: kept.map((rows) => planRows(t, rows, params)),
  };
}

/** The export gates of one kept cluster: faceShort ≥ exportMinFaceShort, then outliers at exportOutlierThreshold. */
export function planRows(
  t: FaceTable,
  rows: readonly number[],
  params: Pick<DiscoveryParams, 'exportMinFaceShort' | 'exportOutlierThreshold'>,
): RowPlan {
  const gated = gateRows(t, rows, { minFaceShort: params.exportMinFaceShort });
  const out = rejectOutliers(gated.kept.map((i) => embeddingOf(t, i)), params.exportOutlierThreshold);
  return {
    inputFaces: rows.length,
    sources: distinctSources(t, rows),
    exportGateDropped: gated.dropped.minFaceShort,
    outliersDropped: out.dropped.length,
    members: out.kept.map((k, j) => ({ row: gated.kept[k]!, distance: out.distances[j]! })),
    centroid: out.centroid,
  };
}
