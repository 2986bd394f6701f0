// Import jobs: one identity per hand-sorted top-level folder, as steps: folders → identities (sync) → import → eras →
// manifest → report → events.
import { mkdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { compareFaces, type DiscoveryFace } from '@facesets/shared/clustering/types';
import type { FacesRepository } from '@facesets/shared/db/faces.repository';
import type { SourcesRepository } from '@facesets/shared/db/sources.repository';
import type { ManifestEvent } from '@facesets/shared/events/manifest-events';
import { appendEntries, MANIFEST_FILE, manifestNames, readManifest, writeManifest } from '@facesets/shared/export/manifest';
import { applyIdentities } from '@facesets/shared/identities/manifest-entries';
import type { EraSplitReport, ImportReport, JobReport } from '@facesets/shared/report/types';
import type { DiscoverDeps, DiscoverInput } from './cluster.processor';
import { erasStep } from './steps/eras.step';
import { publishStep } from './steps/events.step';
import { importStep, planFolders } from './steps/import.step';
import { reportStep } from './steps/report.step';

/** What an import job reads besides the job's faces: each path's folder, and capture times for eras. */
export type ImportSource = Pick<SourcesRepository, 'folderPaths'> & Pick<FacesRepository, 'captureTimesOf'>;

export type ImportFoldersDeps = DiscoverDeps & { imports: ImportSource };

export interface ImportOutcome {
  imports: ImportReport;
  eras: EraSplitReport[];
  added: string[];
  extended: string[];
  report: JobReport;
  event: ManifestEvent;
}

class JobCancelledError extends Error {}

/** The import steps of one job against its output root; null when the job was cancelled before anything moved. */
export async function importFolders(input: DiscoverInput, deps: ImportFoldersDeps): Promise<ImportOutcome | null> {
  const { log } = deps;
  const { params } = input;
  await mkdir(input.outputRoot, { recursive: true });
  const root = await realpath(input.outputRoot);
  const [faces, folders] = await Promise.all([
    deps.faces.facesOfJobWithPaths(input.jobId, input.modelPack).then((f: DiscoveryFace[]) => f.sort(compareFaces)),
    deps.imports.folderPaths(input.jobId),
  ]);
  const errorFiles = new Map(input.report.scan.errorFiles.map((e) => [e.path, e.reason]));
  const plans = planFolders(folders, faces, errorFiles, params);
  log.info({ folders: plans.length, faces: faces.length, outputRoot: root }, 'import started');
  const afterCrops = async () => {
    if (await deps.isCancelled?.()) throw new JobCancelledError();
  };

  let written;
  try {
    written = await deps.lock.withLock(root, async () => {
      // Identities step: folders nobody recorded yet are adopted, PNGs deleted by hand become rejections.
      await deps.identities.syncLocked(root);
      const manifest = await readManifest(root);
      const state = await deps.identities.coverageState(root, input.modelPack);
      if (deps.enterExporting && !(await deps.enterExporting())) throw new JobCancelledError();
      const ctx = { root, jobId: input.jobId, bucket: input.bucket, createdAt: input.createdAt, params, modelPack: input.modelPack };
      const imported = await importStep(
        { ...ctx, folders: plans, state, manifestNames: manifestNames(manifest) },
        { decodeImage: deps.decodeImage, afterCrops, identities: deps.identities, log },
      );
      const eras =
        params.eras === 'none' || !imported.created.length
          ? { splits: [], added: [], entries: { facesets: [], thin_eras: [] } }
          : await erasStep(
              {
                ...ctx,
                by: params.eras,
                origin: 'imported',
                parents: imported.created.map((c) => ({ name: c.name, label: c.label, faces: c.plan.members.map((m) => m.face) })),
                usedNames: [...state.names, ...manifestNames(manifest), ...imported.added],
              },
              {
                captureTimesOf: (shas) => deps.imports.captureTimesOf(shas, input.modelPack),
                decodeImage: deps.decodeImage,
                identities: deps.identities,
                ...(deps.kernel ? { kernel: deps.kernel } : {}),
                afterCrops,
              },
            );
      let next = applyIdentities(manifest, imported.changed, input.createdAt);
      next = appendEntries(next, imported.entries);
      next = appendEntries(next, eras.entries);
      // An import leaves a manifest behind, like a discover job; a re-run that changed nothing rewrites nothing.
      if (imported.changed.length || imported.added.length || eras.added.length || !(await manifestExists(root))) await writeManifest(root, next);
      await deps.identities.refreshFormats(root, log, params);
      return { imported, eras };
    });
  } catch (err) {
    if (err instanceof JobCancelledError) return null;
    throw err;
  }

  const { imported, eras } = written;
  const imports: ImportReport = { folders: imported.folders, skippedFiles: input.report.scan.rootFiles ?? [] };
  const report = await reportStep({ root, jobId: input.jobId, base: input.report, discovery: null, imports, eras: eras.splits }, { log });
  const added = [...imported.added, ...eras.added];
  const event: ManifestEvent = { outputRoot: root, jobId: input.jobId, added, extended: imported.extended };
  await publishStep(event, deps);
  log.info({ added, extended: imported.extended }, 'import finished');
  return { imports, eras: eras.splits, added, extended: imported.extended, report, event };
}

const manifestExists = async (root: string): Promise<boolean> => (await stat(join(root, MANIFEST_FILE)).catch(() => null)) !== null;

/** The summary GET /jobs/:id shows for a finished import job. */
export function importSummary(out: Pick<ImportOutcome, 'imports' | 'eras' | 'added' | 'extended'>) {
  const count = (a: string) => out.imports.folders.filter((f) => f.action === a).length;
  return {
    added: out.added,
    extended: out.extended,
    folders: out.imports.folders.length,
    foldersCreated: count('created'),
    foldersExtended: count('extended'),
    foldersUnchanged: count('unchanged'),
    foldersSkipped: count('skipped'),
    ...(out.eras.length ? { eraSets: out.eras.reduce((n, s) => n + s.eras.filter((e) => e.name).length, 0) } : {}),
  };
}
