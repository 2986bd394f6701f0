// Import step: each hand-sorted folder's faces chosen by consensus, gated, then matched to an identity or made new.
import { join } from 'node:path';
import { planExport, type ExportPlan } from '@facesets/shared/clustering/discover';
import { applyGates } from '@facesets/shared/clustering/gates';
import { faceKey, type DiscoveryFace } from '@facesets/shared/clustering/types';
import { cosineDistance } from '@facesets/shared/clustering/vectors';
import type { ManifestEntry } from '@facesets/shared/export/manifest';
import { nextFacesetNumber } from '@facesets/shared/export/numbering';
import { removeStaleTemps, THIN_DIR } from '@facesets/shared/export/output-root';
import { writeNewFacesets, type DecodeImage } from '@facesets/shared/export/write-facesets';
import { selectFolderFaces, type FolderSelection } from '@facesets/shared/import/consensus';
import type { Logger } from '@facesets/shared/logger';
import type { JobParams } from '@facesets/shared/params';
import type { ImportedFolderReport } from '@facesets/shared/report/types';
import type { CoverageResult, KnownIdentity } from './coverage.step';
import { extendFaceset } from './export.step';

/** One folder of the bucket: its paths (name order) with their content. */
export type FolderPaths = Map<string, { path: string; sha256: string }[]>;

export interface FolderPlan {
  folder: string;
  label: string;
  photos: number;
  selection: FolderSelection<DiscoveryFace>;
  leftOut: ImportedFolderReport['leftOut'];
  /** Taken faces dropped by the quality gates and the export size gate. */
  gateDropped: number;
  /** What the folder would export: the gated members, their centroid, and the label. */
  plan: ExportPlan;
}

/**
 * Per folder (name order): the consensus selection at `outlierThreshold` (the distance beyond which discovery calls
 * a face not this person), then the discovery quality gates and the export gates, as for a discovered cluster.
 */
export function planFolders(
  folders: FolderPaths,
  faces: readonly DiscoveryFace[],
  errorFiles: ReadonlyMap<string, string>,
  params: JobParams,
): FolderPlan[] {
  const bySha = new Map<string, DiscoveryFace[]>();
  for (const f of faces) {
    const list = bySha.get(f.sha256);
    if (list) list.push(f);
    else bySha.set(f.sha256, [f]);
  }
  const names = [...folders.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((folder) => {
    const photos = new Map<string, string>();
    for (const p of folders.get(folder)!) if (!photos.has(p.sha256)) photos.set(p.sha256, p.path);
    const selection = selectFolderFaces(
      [...photos].map(([sha256, path]) => ({ id: sha256, path, faces: bySha.get(sha256) ?? [] })),
      params.outlierThreshold,
    );
    const leftOut = selection.leftOut.map(({ path, reason, distance, faces: n }) => {
      const unreadable = reason === 'no face' ? errorFiles.get(path) : undefined;
      return unreadable !== undefined
        ? { path, reason: 'unreadable' as const, faces: 0, detail: unreadable }
        : { path, reason, faces: n, ...(distance !== undefined ? { distance } : {}) };
    });
    const taken = selection.taken.map((t) => t.face);
    const gated = applyGates(taken, { minFaceShort: params.minFaceShort, minBlur: params.minBlur, minDetScore: params.minDetScore });
    const label = folder.normalize('NFC');
    const plan: ExportPlan = { ...planExport(gated.kept, params), inputFaces: taken.length, extra: { label } };
    const gateDropped = taken.length - gated.kept.length + plan.exportGateDropped;
    return { folder, label, photos: photos.size, selection, leftOut, gateDropped, plan };
  });
}

export interface ImportInput {
  root: string;
  jobId: string;
  bucket: string;
  createdAt: string;
  params: JobParams;
  folders: FolderPlan[];
  covered: CoverageResult;
  /** Names the manifest already uses (numbering continues after them too). */
  manifestNames: string[];
}

export interface ImportDeps {
  decodeImage: DecodeImage;
  /** Runs after the crops are written, before any set is moved into place (the last moment to back out). */
  afterCrops?: () => Promise<void>;
  log: Logger;
}

/** A new identity this job made from a folder, for the era split. */
export interface NewIdentity {
  name: string;
  path: string;
  label: string;
  plan: ExportPlan;
}

export interface ImportResult {
  folders: ImportedFolderReport[];
  added: string[];
  extended: string[];
  created: NewIdentity[];
  entries: { facesets: ManifestEntry[]; thin_eras: ManifestEntry[] };
  /** Manifest fields to update per existing set (new member count, a label it lacked). */
  updates: Map<string, Record<string, unknown>>;
}

/**
 * Writes into the output root (call under its lock, after the job entered `exporting`). A folder whose centroid is
 * within routeThreshold of an existing identity extends it (unless importAsNew), adding only faces not already its
 * members, so importing the same folders again changes nothing; every other folder with faces left becomes a new
 * identity, numbered in folder-name order after every name the root uses.
 */
export async function importStep(input: ImportInput, deps: ImportDeps): Promise<ImportResult> {
  const { root, covered, params } = input;
  const existing = covered.identities.map((i) => i.set);
  const stale = await removeStaleTemps([root, join(root, THIN_DIR), ...existing.map((s) => join(root, s.path))]);
  if (stale.length) deps.log.warn({ removed: stale }, 'removed temp entries an interrupted run left');

  const rows: ImportedFolderReport[] = [];
  const fresh: { row: ImportedFolderReport; folder: FolderPlan }[] = [];
  const extended: string[] = [];
  const updates = new Map<string, Record<string, unknown>>();
  for (const f of input.folders) {
    const row: ImportedFolderReport = {
      folder: f.folder,
      label: f.label,
      photos: f.photos,
      basis: f.selection.basis,
      taken: f.selection.taken.length,
      leftOut: f.leftOut,
      action: 'skipped',
      name: null,
      path: null,
      gateDropped: f.gateDropped,
      outliersDropped: f.plan.outliersDropped,
      exported: 0,
      thin: false,
    };
    rows.push(row);
    if (!f.plan.members.length) {
      row.skipped = !f.selection.basis ? 'no consensus' : !f.selection.taken.length ? 'no face agrees with the folder' : 'empty after the gates';
      continue;
    }
    const match = params.importAsNew ? null : nearestIdentity(covered.identities, f.plan.centroid!, params.routeThreshold);
    if (!match) {
      fresh.push({ row, folder: f });
      continue;
    }
    const { identity, distance } = match;
    const faces = f.plan.members.map((m) => m.face).filter((face) => !covered.memberFaces.has(faceKey(face)));
    const labelled = typeof identity.set.json?.label === 'string' && identity.set.json.label !== '';
    const fields = labelled ? {} : { label: f.label };
    const added = await extendFaceset(identity, faces, { root, jobId: input.jobId, params }, deps, fields);
    for (const face of faces) covered.memberFaces.add(faceKey(face));
    Object.assign(row, { name: identity.set.name, path: identity.set.path, matchDistance: distance, exported: added.count, thin: identity.set.thin });
    row.action = added.count > 0 ? 'extended' : 'unchanged';
    const update: Record<string, unknown> = { ...fields, ...(added.count > 0 ? { count: added.total } : {}) };
    if (Object.keys(update).length) updates.set(identity.set.name, { ...updates.get(identity.set.name), ...update });
    if (added.count > 0 && !extended.includes(identity.set.name)) extended.push(identity.set.name);
  }

  const first = nextFacesetNumber([...existing.map((s) => s.path), ...input.manifestNames]);
  const written = await writeNewFacesets(fresh.map((x) => x.folder.plan), first, {
    root,
    jobId: input.jobId,
    bucket: input.bucket,
    createdAt: input.createdAt,
    params,
    decodeImage: deps.decodeImage,
    ...(deps.afterCrops ? { afterCrops: deps.afterCrops } : {}),
  });
  const created: NewIdentity[] = [];
  written.outcomes.forEach((o, k) => {
    const { row, folder } = fresh[k]!;
    Object.assign(row, { name: o.name, path: o.path, exported: o.exported, thin: o.thin, action: o.name ? 'created' : 'skipped' });
    if (o.skipped) row.skipped = o.skipped;
    if (o.name && o.path) created.push({ name: o.name, path: o.path, label: folder.label, plan: folder.plan });
  });
  return { folders: rows, added: written.added, extended, created, entries: written.entries, updates };
}

/** The identity whose centroid is nearest `c`, when it is within `threshold`. */
function nearestIdentity(identities: readonly KnownIdentity[], c: Float32Array, threshold: number): { identity: KnownIdentity; distance: number } | null {
  let best: { identity: KnownIdentity; distance: number } | null = null;
  for (const identity of identities) {
    if (!identity.centroid) continue;
    const distance = cosineDistance(c, identity.centroid);
    if (distance <= threshold && (!best || distance < best.distance)) best = { identity, distance };
  }
  return best;
}
