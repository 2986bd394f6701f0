// Export step: routed faces added to their identities (extend), kept clusters written as new numbered sets (discover).
import { join } from 'node:path';
import type { ClusteringResult } from '@facesets/shared/clustering/discover';
import { applyGates } from '@facesets/shared/clustering/gates';
import type { ManifestEntry } from '@facesets/shared/export/manifest';
import { nextFacesetNumber } from '@facesets/shared/export/numbering';
import { removeStaleTemps, THIN_DIR } from '@facesets/shared/export/output-root';
import { writeNewFacesets, type DecodeImage } from '@facesets/shared/export/write-facesets';
import type { IdentityService } from '@facesets/shared/identities/identity-service';
import type { IdentityManifestState } from '@facesets/shared/identities/manifest-entries';
import type { Logger } from '@facesets/shared/logger';
import type { JobParams } from '@facesets/shared/params';
import type { DiscoveryReport } from '@facesets/shared/report/types';
import type { CoverageResult } from './coverage.step';

export interface ExportDeps {
  /** Decodes a source at full resolution, EXIF-rotated (the frame the boxes and keypoints are in). */
  decodeImage: DecodeImage;
  /** Runs after the crops are written, before any set is moved into place (the last moment to back out). */
  afterCrops?: () => Promise<void>;
  /** Identity records: extended identities are re-materialised from them, new sets are recorded in them. */
  identities: IdentityService;
  log: Logger;
}

export interface ExportInput {
  root: string;
  jobId: string;
  mode: 'discover' | 'extend';
  bucket: string;
  createdAt: string;
  params: JobParams;
  modelPack: string;
  covered: CoverageResult;
  /** null for extend jobs. */
  clusters: ClusteringResult | null;
  /** Names the manifest already uses (numbering continues after them too). */
  manifestNames: string[];
}

export interface ExportResult {
  /** null for extend jobs (coverage only). */
  discovery: DiscoveryReport | null;
  added: string[];
  extended: string[];
  /** Manifest entries of the new sets. */
  entries: { facesets: ManifestEntry[]; thin_eras: ManifestEntry[] };
  /** New member count per extended set. */
  counts: Map<string, number>;
  /** Extended identities as they are now (an extend can move a set out of _thin/), for their manifest entries. */
  changed?: IdentityManifestState[];
}

/** Writes into the output root (call under its lock, after the job entered `exporting`). */
export async function exportStep(input: ExportInput, deps: ExportDeps): Promise<ExportResult> {
  const { root, covered } = input;
  const identities = covered.state.identities;
  const stale = await removeStaleTemps([root, join(root, THIN_DIR), ...identities.map((i) => join(root, i.record.path))]);
  if (stale.length) deps.log.warn({ removed: stale }, 'removed temp entries an interrupted run left');

  const extended: string[] = [];
  const counts = new Map<string, number>();
  const changed: IdentityManifestState[] = [];
  if (input.mode === 'extend') {
    const p = input.params;
    for (const [idx, list] of [...covered.routed].sort((a, b) => a[0] - b[0])) {
      const identity = identities[idx]!;
      // The quality gates of export (size, blur, detScore): a face routed is not yet a face worth a PNG.
      const { kept } = applyGates(list, { minFaceShort: p.exportMinFaceShort, minBlur: p.minBlur, minDetScore: p.minDetScore });
      const added = await deps.identities.extend(root, identity.record.id, kept, input.modelPack);
      covered.coverage.identities[idx]!.extendedWith = added.count;
      if (added.count > 0) {
        extended.push(identity.record.name);
        counts.set(identity.record.name, added.total);
        changed.push({ identity: (await deps.identities.identities.get(identity.record.id))!, count: added.total });
      }
    }
  }

  let discovery: DiscoveryReport | null = null;
  let added: string[] = [];
  let entries: ExportResult['entries'] = { facesets: [], thin_eras: [] };
  if (input.clusters) {
    const used = [...covered.state.names, ...input.manifestNames];
    const first = nextFacesetNumber(used);
    const written = await writeNewFacesets(input.clusters.plans, first, {
      root,
      jobId: input.jobId,
      bucket: input.bucket,
      createdAt: input.createdAt,
      params: input.params,
      decodeImage: deps.decodeImage,
      ...(deps.afterCrops ? { afterCrops: deps.afterCrops } : {}),
    });
    // The folders are in place; their records follow (a crash in between leaves folders the next touch adopts).
    const records = await deps.identities.recordNewSets(root, written.sets, input.modelPack);
    // Then curation: one face per shot, maxFaces; the folders, entries and outcomes say what is exported.
    const curated = await deps.identities.curateNewSets(root, records);
    entries = curatedEntries(written.entries, curated);
    added = written.added;
    discovery = {
      ...input.clusters.report,
      facesets: written.outcomes.map((o) => {
        const c = o.name ? curated.get(o.name) : undefined;
        return c
          ? { ...o, path: c.path, thin: c.thin, exported: c.count, nearDuplicates: c.left.nearDuplicate, ...(c.left.maxFaces ? { maxFacesLeft: c.left.maxFaces } : {}) }
          : o;
      }),
    };
  }
  return { discovery, added, extended, entries, counts, changed };
}

/** Manifest entries of new sets as curation left them: their PNG count, and under thin_eras when that fell below thinBelow. */
export function curatedEntries(
  written: { facesets: ManifestEntry[]; thin_eras: ManifestEntry[] },
  curated: ReadonlyMap<string, { count: number; path: string; thin: boolean }>,
): { facesets: ManifestEntry[]; thin_eras: ManifestEntry[] } {
  const all = [...written.facesets, ...written.thin_eras].map((e) => {
    const c = curated.get(e.name);
    return { entry: c ? { ...e, count: c.count, path: c.path } : e, thin: c ? c.thin : written.thin_eras.includes(e) };
  });
  return { facesets: all.filter((x) => !x.thin).map((x) => x.entry), thin_eras: all.filter((x) => x.thin).map((x) => x.entry) };
}
