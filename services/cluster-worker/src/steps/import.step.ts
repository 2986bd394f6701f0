// Import step: each hand-sorted folder's faces chosen by consensus, gated, then matched to an identity or made new.
import { join } from 'node:path';
import { planExport, type ExportPlan } from '@facesets/shared/clustering/discover';
import { applyGates } from '@facesets/shared/clustering/gates';
import type { DiscoveryFace } from '@facesets/shared/clustering/types';
import { cosineDistance } from '@facesets/shared/clustering/vectors';
import type { ManifestEntry } from '@facesets/shared/export/manifest';
import { nextFacesetNumber } from '@facesets/shared/export/numbering';
import { removeStaleTemps, THIN_DIR } from '@facesets/shared/export/output-root';
import { writeNewFacesets, type DecodeImage } from '@facesets/shared/export/write-facesets';
import { labelFromName } from '@facesets/shared/identities/label';
import { curatedEntries } from './export.step';
import { selectFolderFaces, type FolderSelection } from '@facesets/shared/import/consensus';
import type { CoverageIdentity, CoverageState, IdentityService } from '@facesets/shared/identities/identity-service';
import type { IdentityManifestState } from '@facesets/shared/identities/manifest-entries';
import { displayPath } from '@facesets/shared/jobs/fs-path';
import type { Logger } from '@facesets/shared/logger';
import type { JobParams } from '@facesets/shared/params';
import type { ImportedFolderReport } from '@facesets/shared/report/types';

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
    // A folder name is not chosen by us: made printable like any label (no control or bidi characters).
    const label = labelFromName(displayPath(folder)) ?? 'unnamed folder';
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
  modelPack: string;
  folders: FolderPlan[];
  /** The output root's identities as records (decisions honoured), read under the lock. */
  state: CoverageState;
  /** Names the manifest already uses (numbering continues after them too). */
  manifestNames: string[];
}

export interface ImportDeps {
  decodeImage: DecodeImage;
  /** Runs after the crops are written, before any set is moved into place (the last moment to back out). */
  afterCrops?: () => Promise<void>;
  /** Identity records: extended identities are re-materialised from them, new identities recorded in them. */
  identities: IdentityService;
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
  /** Existing identities the import changed (new members, a label), as they are now, for their manifest entries. */
  changed: IdentityManifestState[];
}

/**
 * Writes into the output root (call under its lock, after the job entered `exporting`). A folder whose centroid is
 * within routeThreshold of an existing identity (no era) extends it (unless importAsNew) with the faces that are no
 * member of any identity yet and were never rejected from it, so importing the same folders again changes nothing;
 * every other folder with faces left becomes a new identity (origin `imported`), numbered in folder-name order after
 * every name the root ever used.
 */
export async function importStep(input: ImportInput, deps: ImportDeps): Promise<ImportResult> {
  const { root, state, params } = input;
  const stale = await removeStaleTemps([root, join(root, THIN_DIR), ...state.identities.map((i) => join(root, i.record.path))]);
  if (stale.length) deps.log.warn({ removed: stale }, 'removed temp entries an interrupted run left');

  const rows: ImportedFolderReport[] = [];
  const fresh: { row: ImportedFolderReport; folder: FolderPlan }[] = [];
  const extended: string[] = [];
  const touched = new Map<string, number>();
  /** Faces this job's new identities took already. */
  const claimed = new Set<string>();
  const key = (face: DiscoveryFace) => `${face.sha256}:${face.faceIndex}`;
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
    const match = params.importAsNew ? null : nearestIdentity(state.identities, f.plan.centroid!, params.routeThreshold);
    if (!match) {
      // A face belongs to one identity of a root: one another identity holds (importAsNew over the same photos, a
      // byte-duplicate filed in two folders) stays where it is.
      const members = f.plan.members.filter((m) => !state.memberOf.has(key(m.face)) && !claimed.has(key(m.face)));
      if (!members.length) {
        row.skipped = 'every face is a member of another identity already';
        continue;
      }
      for (const m of members) claimed.add(key(m.face));
      fresh.push({ row, folder: { ...f, plan: { ...f.plan, members } } });
      continue;
    }
    const { identity, index, distance } = match;
    const faces = f.plan.members
      .map((m) => m.face)
      .filter((face) => !state.memberOf.has(key(face)) && !claimed.has(key(face)) && !identity.rejected.has(key(face)) && !state.held.has(key(face)))
      .map((face) => ({ ...face, distance: cosineDistance(face.embedding, identity.centroid!) }));
    const added = await deps.identities.extend(root, identity.record.id, faces, input.modelPack, { origin: 'imported', label: f.label });
    for (const face of faces) state.memberOf.set(key(face), index);
    const now = (await deps.identities.identities.get(identity.record.id))!;
    Object.assign(row, { name: now.name, path: now.path, matchDistance: distance, exported: added.count, thin: now.thin });
    row.action = added.count > 0 ? 'extended' : 'unchanged';
    if (now.version !== identity.record.version) touched.set(now.id, added.total);
    if (added.count > 0 && !extended.includes(now.name)) extended.push(now.name);
  }

  const used = [...state.names, ...input.manifestNames];
  const first = nextFacesetNumber(used);
  const written = await writeNewFacesets(fresh.map((x) => x.folder.plan), first, {
    root,
    jobId: input.jobId,
    bucket: input.bucket,
    createdAt: input.createdAt,
    params,
    decodeImage: deps.decodeImage,
    ...(deps.afterCrops ? { afterCrops: deps.afterCrops } : {}),
  });
  // The folders are in place; their records follow (a crash in between leaves folders the next touch adopts).
  const records = await deps.identities.recordNewSets(root, written.sets, input.modelPack, 'imported');
  // Curation as for discovered sets: one face per shot, maxFaces.
  const curated = await deps.identities.curateNewSets(root, records);
  const entries = curatedEntries(written.entries, curated);
  const created: NewIdentity[] = [];
  written.outcomes.forEach((o, k) => {
    const { row, folder } = fresh[k]!;
    const c = o.name ? curated.get(o.name) : undefined;
    Object.assign(row, { name: o.name, path: c?.path ?? o.path, exported: c?.count ?? o.exported, thin: c?.thin ?? o.thin, action: o.name ? 'created' : 'skipped' });
    if (o.skipped) row.skipped = o.skipped;
    if (o.name && o.path) created.push({ name: o.name, path: c?.path ?? o.path, label: folder.label, plan: folder.plan });
  });
  const changed: IdentityManifestState[] = [];
  for (const [id, count] of touched) changed.push({ identity: (await deps.identities.identities.get(id))!, count });
  return { folders: rows, added: written.added, extended, created, entries, changed };
}

/** The identity (no era) whose centroid is nearest `c`, when it is within `threshold`. */
function nearestIdentity(
  identities: readonly CoverageIdentity[],
  c: Float32Array,
  threshold: number,
): { identity: CoverageIdentity; index: number; distance: number } | null {
  let best: { identity: CoverageIdentity; index: number; distance: number } | null = null;
  identities.forEach((identity, index) => {
    if (!identity.centroid || identity.record.parentId) return;
    const distance = cosineDistance(c, identity.centroid);
    if (distance <= threshold && (!best || distance < best.distance)) best = { identity, index, distance };
  });
  return best;
}
