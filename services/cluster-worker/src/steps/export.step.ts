// Export step: routed faces appended to their sets (extend), kept clusters written as new numbered sets (discover).
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusteringResult } from '@facesets/shared/clustering/discover';
import { applyGates } from '@facesets/shared/clustering/gates';
import { faceKey, type DiscoveryFace } from '@facesets/shared/clustering/types';
import { cosineDistance } from '@facesets/shared/clustering/vectors';
import { writeFileAtomic } from '@facesets/shared/export/atomic-write';
import { FACESET_FILE, facesetMember, serializeFaceset } from '@facesets/shared/export/faceset-file';
import type { ManifestEntry } from '@facesets/shared/export/manifest';
import { cropFileName } from '@facesets/shared/export/naming';
import { nextFacesetNumber } from '@facesets/shared/export/numbering';
import { removeStaleTemps, THIN_DIR } from '@facesets/shared/export/output-root';
import { writeCrops, writeNewFacesets, type DecodeImage } from '@facesets/shared/export/write-facesets';
import type { Logger } from '@facesets/shared/logger';
import type { JobParams } from '@facesets/shared/params';
import type { DiscoveryReport } from '@facesets/shared/report/types';
import type { CoverageResult, KnownIdentity } from './coverage.step';

export interface ExportDeps {
  /** Decodes a source at full resolution, EXIF-rotated (the frame the boxes and keypoints are in). */
  decodeImage: DecodeImage;
  /** Runs after the crops are written, before any set is moved into place (the last moment to back out). */
  afterCrops?: () => Promise<void>;
  log: Logger;
}

export interface ExportInput {
  root: string;
  jobId: string;
  mode: 'discover' | 'extend';
  bucket: string;
  createdAt: string;
  params: JobParams;
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
}

/** Writes into the output root (call under its lock, after the job entered `exporting`). */
export async function exportStep(input: ExportInput, deps: ExportDeps): Promise<ExportResult> {
  const { root, covered } = input;
  const existing = covered.identities.map((i) => i.set);
  const stale = await removeStaleTemps([root, join(root, THIN_DIR), ...existing.map((s) => join(root, s.path))]);
  if (stale.length) deps.log.warn({ removed: stale }, 'removed temp entries an interrupted run left');

  const extended: string[] = [];
  const counts = new Map<string, number>();
  if (input.mode === 'extend') {
    for (const [id, list] of [...covered.routed].sort((a, b) => a[0] - b[0])) {
      const identity = covered.identities[id]!;
      const fresh = list.filter((f) => !covered.memberFaces.has(faceKey(f)));
      const added = await extendFaceset(identity, fresh, input, deps);
      covered.coverage.identities[id]!.extendedWith = added.count;
      if (added.count > 0) {
        extended.push(identity.set.name);
        counts.set(identity.set.name, added.total);
      }
    }
  }

  let discovery: DiscoveryReport | null = null;
  let added: string[] = [];
  let entries: ExportResult['entries'] = { facesets: [], thin_eras: [] };
  if (input.clusters) {
    const first = nextFacesetNumber([...existing.map((s) => s.name), ...input.manifestNames]);
    const written = await writeNewFacesets(input.clusters.plans, first, {
      root,
      jobId: input.jobId,
      bucket: input.bucket,
      createdAt: input.createdAt,
      params: input.params,
      decodeImage: deps.decodeImage,
      ...(deps.afterCrops ? { afterCrops: deps.afterCrops } : {}),
    });
    entries = written.entries;
    added = written.added;
    discovery = { ...input.clusters.report, facesets: written.outcomes };
  }
  return { discovery, added, extended, entries, counts };
}

/**
 * Extend: the routed faces that pass the quality gates (blur, detScore, export size) become new PNGs of the set,
 * appended to its faceset.json (written atomically). A set without a readable faceset.json is left alone.
 */
async function extendFaceset(
  identity: KnownIdentity,
  faces: DiscoveryFace[],
  input: ExportInput,
  deps: ExportDeps,
): Promise<{ count: number; total: number }> {
  const { set, centroid } = identity;
  const json = set.json;
  const members = json && Array.isArray(json.members) ? (json.members as unknown[]) : null;
  if (!json || !members || !centroid || !faces.length) return { count: 0, total: members?.length ?? 0 };
  const p = input.params;
  const { kept } = applyGates(faces, { minFaceShort: p.exportMinFaceShort, minBlur: p.minBlur, minDetScore: p.minDetScore });
  if (!kept.length) return { count: 0, total: members.length };
  const dir = join(input.root, set.path);
  const requests = kept.map((face) => ({ face, file: join(dir, `.tmp-${input.jobId}-${cropFileName(face)}`) }));
  const failed = await writeCrops(requests, deps.decodeImage, p.exportSize);
  const added: unknown[] = [];
  for (const [i, r] of requests.entries()) {
    if (failed.has(i)) continue;
    const png = cropFileName(r.face);
    await rename(r.file, join(dir, png));
    added.push(facesetMember({ ...r.face, png, distance: cosineDistance(r.face.embedding, centroid) }));
  }
  if (!added.length) return { count: 0, total: members.length };
  const next = { ...json, members: [...members, ...added] };
  await writeFileAtomic(join(dir, FACESET_FILE), serializeFaceset(next));
  return { count: added.length, total: next.members.length };
}
