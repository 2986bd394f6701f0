// Eras step: the job's new identities split into eras (params.eras), each era written as its own face set.
import type { ExportPlan } from '@facesets/shared/clustering/discover';
import type { DotKernel } from '@facesets/shared/clustering/threshold-graph';
import type { DiscoveryFace } from '@facesets/shared/clustering/types';
import { centroid, cosineDistance } from '@facesets/shared/clustering/vectors';
import { eraDescriptor, splitEras, type EraBy } from '@facesets/shared/eras/split-eras';
import type { ManifestEntry } from '@facesets/shared/export/manifest';
import type { FaceOrigin } from '@facesets/shared/identities/contracts';
import type { IdentityService } from '@facesets/shared/identities/identity-service';
import { nextFacesetNumber } from '@facesets/shared/export/numbering';
import { writeNewFacesets, type DecodeImage } from '@facesets/shared/export/write-facesets';
import { curatedEntries } from './export.step';
import type { JobParams } from '@facesets/shared/params';
import type { EraSplitReport } from '@facesets/shared/report/types';

/** An identity to split: its name and the faces it exported. */
export interface EraParent {
  name: string;
  label?: string;
  faces: DiscoveryFace[];
}

export interface ErasInput {
  root: string;
  jobId: string;
  bucket: string;
  createdAt: string;
  params: JobParams;
  modelPack: string;
  by: EraBy;
  /** How the era members got into their parent (`imported`, `discovered`): the era records keep it. */
  origin: FaceOrigin;
  parents: EraParent[];
  /** Every name the output root and its manifest use now (this job's new sets included). */
  usedNames: string[];
}

export interface ErasDeps {
  /** EXIF capture time per source sha256 (undated sources absent). */
  captureTimesOf(sha256s: string[]): Promise<Map<string, Date>>;
  decodeImage: DecodeImage;
  /** Era sets are recorded as identities with their parent and span. */
  identities: Pick<IdentityService, 'recordNewSets' | 'curateNewSets'>;
  kernel?: DotKernel;
  afterCrops?: () => Promise<void>;
}

export interface ErasResult {
  splits: EraSplitReport[];
  added: string[];
  entries: { facesets: ManifestEntry[]; thin_eras: ManifestEntry[] };
}

/**
 * Splits each parent (call under the output-root lock): an identity that falls into fewer than two eras is not split.
 * Era sets are numbered after every used name, parent by parent, in era order; the parents stay as they are.
 */
export async function erasStep(input: ErasInput, deps: ErasDeps): Promise<ErasResult> {
  const times = await deps.captureTimesOf([...new Set(input.parents.flatMap((p) => p.faces.map((f) => f.sha256)))]);
  const splits: EraSplitReport[] = [];
  const added: string[] = [];
  const entries: ErasResult['entries'] = { facesets: [], thin_eras: [] };
  const used = [...input.usedNames];
  for (const parent of input.parents) {
    const faces = parent.faces.map((f) => ({ ...f, capturedAt: times.get(f.sha256) ?? null }));
    const split = await splitEras(faces, input.by, input.params, deps.kernel);
    const report: EraSplitReport = { parent: parent.name, ...(parent.label ? { label: parent.label } : {}), by: input.by, eras: [], unplaced: split.unplaced.length };
    splits.push(report);
    if (split.eras.length < 2) {
      report.skipped = split.eras.length ? 'all faces fall into one era' : 'no era: no face is dated';
      continue;
    }
    const plans: ExportPlan[] = split.eras.map((era) => {
      const c = centroid(era.members.map((f) => f.embedding));
      return {
        inputFaces: era.members.length,
        sources: new Set(era.members.map((f) => f.sha256)).size,
        exportGateDropped: 0,
        outliersDropped: 0,
        members: era.members.map(({ capturedAt: _t, ...face }) => ({ face, distance: cosineDistance(face.embedding, c) })),
        centroid: c,
        extra: { ...(parent.label ? { label: parent.label } : {}), parent: parent.name, era: eraDescriptor(era) },
      };
    });
    const written = await writeNewFacesets(plans, nextFacesetNumber(used), {
      root: input.root,
      jobId: input.jobId,
      bucket: input.bucket,
      createdAt: input.createdAt,
      params: input.params,
      decodeImage: deps.decodeImage,
      ...(deps.afterCrops ? { afterCrops: deps.afterCrops } : {}),
    });
    const records = await deps.identities.recordNewSets(input.root, written.sets, input.modelPack, input.origin);
    // Curated as every new set: one face per shot, maxFaces.
    const curated = await deps.identities.curateNewSets(input.root, records);
    written.outcomes.forEach((o, k) => {
      const d = eraDescriptor(split.eras[k]!);
      const c = o.name ? curated.get(o.name) : undefined;
      report.eras.push({
        name: o.name, path: c?.path ?? o.path, from: d.from, to: d.to, faces: plans[k]!.inputFaces, exported: c?.count ?? o.exported, thin: c?.thin ?? o.thin,
        ...(o.skipped ? { skipped: o.skipped } : {}),
      });
    });
    added.push(...written.added);
    used.push(...written.added);
    const curatedList = curatedEntries(written.entries, curated);
    entries.facesets.push(...curatedList.facesets);
    entries.thin_eras.push(...curatedList.thin_eras);
  }
  return { splits, added, entries };
}
