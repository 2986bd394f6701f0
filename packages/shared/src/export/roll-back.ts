// Undoes what an interrupted run of a job left in an output root, so the restarted cluster stage redoes it cleanly.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { REPORTS_DIR } from '../report/markdown';
import { readManifest, writeManifest, type Manifest } from './manifest';
import { FACESET_FILE } from './faceset-file';
import { facesetNumber } from './numbering';
import { removeStaleTemps, THIN_DIR } from './output-root';

export interface RollBack {
  /** Face set folders (relative paths) this job had moved into place. */
  sets: string[];
  /** Manifest entries of this job that were removed again. */
  manifestEntries: number;
  /** Temp folders and files removed (any job's: this runs under the output-root lock). */
  temps: string[];
}

const ofJob = (jobId: string) => (e: unknown) => ((e ?? {}) as { jobId?: unknown }).jobId === jobId;

/**
 * Call under the output-root lock, before coverage reads the root, for a job that has not completed: the new sets it
 * wrote (faceset.json `jobId`), its manifest entries and every temp entry (face set temp folders, atomic-write temp
 * files in the root, _thin/, _reports/ and _reports/<jobId>/) are removed, so a re-run numbers, exports and lists
 * the same sets once. Extended sets are left alone: a re-run skips faces they already hold.
 */
export async function rollBackUnfinishedRun(root: string, jobId: string): Promise<RollBack> {
  const sets = await setsOfJob(root, jobId);
  const manifest = await readManifest(root);
  const kept: Manifest = {
    ...manifest,
    facesets: manifest.facesets.filter((e) => !ofJob(jobId)(e)),
    thin_eras: manifest.thin_eras.filter((e) => !ofJob(jobId)(e)),
  };
  const manifestEntries = manifest.facesets.length + manifest.thin_eras.length - kept.facesets.length - kept.thin_eras.length;
  // The manifest first: a crash in between leaves folders no manifest lists, which the next run removes.
  if (manifestEntries > 0) await writeManifest(root, kept);
  for (const path of sets) await rm(join(root, path), { recursive: true, force: true });
  const temps = await removeStaleTemps([root, join(root, THIN_DIR), join(root, REPORTS_DIR), join(root, REPORTS_DIR, jobId)]);
  return { sets, manifestEntries, temps };
}

/** Face set folders (relative paths, `_thin/` included) whose faceset.json names `jobId` as the job that wrote them. */
async function setsOfJob(root: string, jobId: string): Promise<string[]> {
  const found: string[] = [];
  for (const rel of ['', THIN_DIR]) {
    const names = await readdir(join(root, rel)).catch(() => [] as string[]);
    for (const name of names) {
      if (facesetNumber(name) === null) continue;
      const path = rel ? `${rel}/${name}` : name;
      const json = await readFile(join(root, path, FACESET_FILE), 'utf8').then((t) => JSON.parse(t) as { jobId?: unknown }, () => null);
      if (json?.jobId === jobId) found.push(path);
    }
  }
  return found.sort();
}
