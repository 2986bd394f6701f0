// Re-materialise identities from their records: folder, PNGs, faceset.json and contact sheet rewritten to match.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pose } from '../curation/pose';
import type { Point } from '../engine/types';
import { fsyncDir, writeFileAtomic } from '../export/atomic-write';
import { FACESET_FILE, orderedMember, serializeFaceset } from '../export/faceset-file';
import { TEMP_PREFIX, THIN_DIR } from '../export/output-root';
import { writeCrops, type CropRequest, type DecodeImage } from '../export/write-facesets';
import type { Logger } from '../logger';
import { renderContactSheet, SHEET_MAX } from '../report/contact-sheet';
import { REPORTS_DIR } from '../report/markdown';
import type { CurateDraft } from './curation';
import { faceKeyOf } from './face-id';
import type { IdentityDraft } from './records';

/** Per-identity contact sheets, rewritten after every change: _reports/identities/<name>.png. */
export const IDENTITY_SHEETS_DIR = `${REPORTS_DIR}/identities`;
export const contactSheetPath = (name: string): string => `${IDENTITY_SHEETS_DIR}/${name}.png`;

/** Per-process memory of what each contact sheet shows (its PNG list), so an unchanged one is not drawn again. */
const sheetsDrawn = new Map<string, string>();

export interface MaterialiseDeps {
  decodeImage: DecodeImage;
  log: Logger;
  /** Which members are exported (one per shot, maxFaces) and which left out, and why [all exported]. */
  curate?: CurateDraft;
}

export interface MaterialiseOptions {
  /** Side of crops that must be made from their source [the identity's params.exportSize, else 512]. */
  exportSize?: number;
  /** An existing PNG per face key (the identity folder a split or merge takes it from): copied, not re-cropped. */
  pngSources?: PngSources;
  /** First pass of a multi-identity change: add PNGs and rewrite faceset.json, but remove nothing yet. */
  keepStale?: boolean;
  /** PNGs the folder's faceset.json listed before the change [read now]: those that are no members are removed. */
  listedBefore?: Set<string>;
}

/** face key → the identity folder (by name, wherever it sits now) and PNG name holding its crop. */
export type PngSources = Map<string, { folder: string; png: string }>;

export interface MaterialiseResult {
  /** PNGs the folder holds now (members whose crop could not be made are left out of faceset.json). */
  count: number;
  /** Members curation left out, by reason (`near-duplicate of …` counted as `nearDuplicate`). */
  left: { nearDuplicate: number; maxFaces: number };
  written: boolean;
  removed: boolean;
  failed: string[];
}

/** A member entry with the pose its face record has, when the entry was written before pose existed. */
function withPose(entry: Record<string, unknown>, pose: Pose | undefined): Record<string, unknown> {
  if (entry.pose || !pose) return entry;
  const r = (v: number) => Number(v.toFixed(1));
  return { ...entry, pose: { yaw: r(pose.yaw), pitch: r(pose.pitch), roll: r(pose.roll) } };
}

/** faceset.json's first keys after name and label, as a job writes them. */
const HEADER_ORDER = ['source', 'jobId', 'createdAt', 'params'];

const isDir = async (p: string): Promise<boolean> => (await stat(p).catch(() => null))?.isDirectory() ?? false;
const exists = async (p: string): Promise<boolean> => (await stat(p).catch(() => null)) !== null;

/** Where the identity's folder is on disk now: <name> or _thin/<name>, or null. */
export async function findFolder(root: string, name: string): Promise<string | null> {
  for (const rel of [name, `${THIN_DIR}/${name}`]) if (await isDir(join(root, rel))) return rel;
  return null;
}

export async function listedPngs(dir: string): Promise<Set<string>> {
  try {
    const json = JSON.parse(await readFile(join(dir, FACESET_FILE), 'utf8')) as { members?: { png?: unknown }[] };
    return new Set((json.members ?? []).map((m) => m?.png).filter((p): p is string => typeof p === 'string'));
  } catch {
    return new Set();
  }
}

/**
 * Makes the folder of one identity match its draft. Call under the output-root lock. Every file appears whole: new
 * PNGs are written (or copied) under temp names and renamed, faceset.json is replaced atomically, a new folder is
 * built under a temp name and renamed into place, a moved one (thin ↔ full) is renamed, a retired one is renamed
 * away before it is removed. PNGs the old faceset.json listed that are no members now are removed last.
 */
export async function materialiseIdentity(root: string, draft: IdentityDraft, deps: MaterialiseDeps, opts: MaterialiseOptions = {}): Promise<MaterialiseResult> {
  const { identity } = draft;
  const current = await findFolder(root, identity.name);
  if (identity.state !== 'active') {
    if (current && !opts.keepStale) {
      const gone = join(root, `${TEMP_PREFIX}gone-${identity.name}-${randomBytes(4).toString('hex')}`);
      await rename(join(root, current), gone);
      await fsyncDir(join(root, current, '..'));
      await rm(gone, { recursive: true, force: true });
    }
    await rm(join(root, contactSheetPath(identity.name)), { force: true });
    return { count: 0, left: { nearDuplicate: 0, maxFaces: 0 }, written: false, removed: current !== null, failed: [] };
  }

  const target = join(root, identity.path);
  await mkdir(join(target, '..'), { recursive: true });
  let work = target;
  let fresh = false;
  if (current && current !== identity.path) {
    await rename(join(root, current), target);
    await fsyncDir(join(root, current, '..'));
  } else if (!current) {
    work = join(root, `${TEMP_PREFIX}new-${identity.name}-${randomBytes(4).toString('hex')}`);
    await mkdir(work, { recursive: true });
    fresh = true;
  }
  try {
    const before = opts.listedBefore ?? (await listedPngs(work));
    // Curation picks the members that become PNGs; the others stay members in the records, listed under `left`.
    const curation = deps.curate ? await deps.curate(draft) : null;
    const exported = curation ? { ...draft, members: draft.members.filter((m) => curation.exported.has(`${m.sha256}:${m.faceIndex}`)) } : draft;
    const failed = await writeMissingPngs(root, work, exported, deps, opts);
    const members = exported.members.filter((m) => !failed.has(m.png));
    const { name: _name, label: _label, members: _members, left: _left, ...header } = identity.header as Record<string, unknown>;
    const left = curation?.left ?? [];
    const file = {
      name: identity.name,
      ...(identity.label ? { label: identity.label } : {}),
      // The export's key order (the record's header comes back from jsonb in its own order).
      ...Object.fromEntries(HEADER_ORDER.filter((k) => k in header).map((k) => [k, header[k]])),
      ...header,
      members: [...members.map((m) => orderedMember(withPose(m.entry, curation?.poses.get(`${m.sha256}:${m.faceIndex}`)))), ...identity.foreignMembers],
      ...(left.length ? { left: left.map(({ sha256, faceIndex, reason }) => ({ sha256, faceIndex, reason })) } : {}),
    };
    await writeFileAtomic(join(work, FACESET_FILE), serializeFaceset(file));
    const keep = new Set([...members.map((m) => m.png), ...identity.foreignMembers.map((m) => (m as { png?: string })?.png)]);
    if (!opts.keepStale) for (const png of before) if (!keep.has(png)) await rm(join(work, png), { force: true });
    if (fresh) {
      await fsyncDir(work);
      await rename(work, target);
      await fsyncDir(join(target, '..'));
    }
    if (!opts.keepStale) await writeIdentitySheet(root, identity.name, target, members, deps.log);
    for (const png of failed.keys()) deps.log.warn({ identity: identity.name, png, reason: failed.get(png) }, 'member crop could not be made');
    const nearDuplicate = left.filter((l) => l.duplicateOf !== undefined).length;
    return {
      count: members.length + identity.foreignMembers.length, left: { nearDuplicate, maxFaces: left.length - nearDuplicate },
      written: true, removed: false, failed: [...failed.keys()],
    };
  } finally {
    if (fresh) await rm(work, { recursive: true, force: true });
  }
}

/** Copies PNGs from `pngSources` where given, crops the rest from their sources; returns png → reason for failures. */
async function writeMissingPngs(root: string, dir: string, draft: IdentityDraft, deps: MaterialiseDeps, opts: MaterialiseOptions): Promise<Map<string, string>> {
  const have = new Set(await readdir(dir));
  const crops: (CropRequest & { png: string })[] = [];
  for (const m of draft.members) {
    if (have.has(m.png)) continue;
    const src = opts.pngSources?.get(faceKeyOf(m));
    const srcFolder = src ? await findFolder(root, src.folder) : null;
    const from = src && srcFolder ? join(root, srcFolder, src.png) : null;
    const tmp = join(dir, `${TEMP_PREFIX}${randomBytes(4).toString('hex')}-${m.png}`);
    if (from && (await exists(from))) {
      await copyFile(from, tmp);
      await rename(tmp, join(dir, m.png));
      continue;
    }
    const e = m.entry as { sources?: unknown; kps?: unknown };
    const paths = Array.isArray(e.sources) ? (e.sources as string[]) : [];
    const kps = Array.isArray(e.kps) && e.kps.length === 5 ? (e.kps as [Point, Point, Point, Point, Point]) : null;
    if (!kps) continue;
    crops.push({ face: { sha256: m.sha256, faceIndex: m.faceIndex, kps, paths }, file: tmp, png: m.png });
  }
  const failed = new Map<string, string>();
  for (const m of draft.members) {
    const kps = (m.entry as { kps?: unknown }).kps;
    if (!have.has(m.png) && !Array.isArray(kps) && !opts.pngSources?.has(faceKeyOf(m)) && !(await exists(join(dir, m.png)))) failed.set(m.png, 'no keypoints to crop from');
  }
  if (!crops.length) return failed;
  const size = opts.exportSize ?? exportSizeOf(draft);
  const reasons = await writeCrops(crops, deps.decodeImage, size);
  for (const [i, c] of crops.entries()) {
    const why = reasons.get(i);
    if (why) failed.set(c.png, why);
    else await rename(c.file, join(dir, c.png));
  }
  return failed;
}

function exportSizeOf(d: IdentityDraft): number {
  const v = (d.identity.header.params as { exportSize?: unknown } | undefined)?.exportSize;
  return typeof v === 'number' && v >= 16 ? v : 512;
}

/** Writes (or removes, when empty) the identity's contact sheet from the PNGs in `dir`, nearest the centroid first. */
export async function writeIdentitySheet(root: string, name: string, dir: string, members: IdentityDraft['members'], log: Logger): Promise<void> {
  const file = join(root, contactSheetPath(name));
  try {
    const dist = (m: (typeof members)[number]) => ((m.entry as { distance?: unknown }).distance as number | undefined) ?? 1;
    const pngs = [...members].sort((a, b) => dist(a) - dist(b)).map((m) => join(dir, m.png));
    if (!pngs.length) {
      await rm(file, { force: true });
      sheetsDrawn.delete(file);
      return;
    }
    // A label or a change beyond the sheet's first SHEET_MAX faces leaves the picture as it is: not drawn again.
    const signature = `${pngs.slice(0, SHEET_MAX).join('\n')}\n${pngs.length}`;
    if (sheetsDrawn.get(file) === signature && (await exists(file))) return;
    await mkdir(join(root, IDENTITY_SHEETS_DIR), { recursive: true });
    await writeFileAtomic(file, await renderContactSheet(pngs, members.map((m) => (m.entry as { pose?: Pose }).pose)));
    sheetsDrawn.set(file, signature);
  } catch (err) {
    log.warn({ err, identity: name }, 'identity contact sheet could not be written');
  }
}

