// Re-materialise identities from their records: folder, PNGs, faceset.json and contact sheet rewritten to match.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LRUCache } from 'lru-cache';
import sharp from 'sharp';
import type { Pose } from '../curation/pose';
import { fsyncDir, writeFileAtomic } from '../export/atomic-write';
import { entryKps, FACESET_FILE, orderedMember, serializeFaceset } from '../export/faceset-file';
import { TEMP_PREFIX, THIN_DIR } from '../export/output-root';
import { ensureRealDir, isPlainMemberName, memberPath, readFileNoFollow, realDirState, realPathUnder, regularFiles } from '../export/root-guard';
import { writeCrops, type CropRequest, type DecodeImage } from '../export/write-facesets';
import type { Logger } from '../logger';
import { renderContactSheet, SHEET_MAX, SHEET_THUMB } from '../report/contact-sheet';
import { REPORTS_DIR } from '../report/markdown';
import type { CurateDraft } from './curation';
import { faceKeyOf } from './face-id';
import type { IdentityDraft } from './records';

/** Per-identity contact sheets, rewritten after every change: _reports/identities/<name>.png. */
export const IDENTITY_SHEETS_DIR = `${REPORTS_DIR}/identities`;
export const contactSheetPath = (name: string): string => `${IDENTITY_SHEETS_DIR}/${name}.png`;

/** Per-process memory of what each contact sheet shows (its PNG list), so an unchanged one is not drawn again. */
const sheetsDrawn = new Map<string, string>();

/**
 * Contact sheets of decisions are drawn when the process has been quiet for SHEET_QUIET_MS: a decision answers
 * without waiting for its picture (drawing 64 thumbnails would be most of what it costs, and would slow the next
 * one down), a burst of decisions on one identity draws its sheet once, and only the latest change of each sheet is
 * drawn. Reading a sheet (and closing) draws what is due first. Every write is atomic: readers see old or new.
 */
const SHEET_QUIET_MS = 750;
const sheetsDue = new Map<string, () => Promise<void>>();
let drawing: Promise<void> = Promise.resolve();
let quietTimer: NodeJS.Timeout | null = null;

function drawDue(only?: string): Promise<void> {
  const tasks = only ? (sheetsDue.has(only) ? [sheetsDue.get(only)!] : []) : [...sheetsDue.values()];
  if (only) sheetsDue.delete(only);
  else sheetsDue.clear();
  drawing = drawing.then(async () => {
    for (const t of tasks) await t().catch(() => undefined); // each task logs its own failure
  });
  return drawing;
}

/** Draws (or removes) one sheet: now, after every earlier task; or later, when the process is quiet. */
function queueSheet(file: string, task: () => Promise<void>, when: 'now' | 'later'): Promise<void> {
  sheetsDue.set(file, task);
  if (when === 'now') return drawDue(file);
  if (quietTimer) clearTimeout(quietTimer);
  quietTimer = setTimeout(() => {
    quietTimer = null;
    void drawDue();
  }, SHEET_QUIET_MS);
  quietTimer.unref();
  return Promise.resolve();
}

/** Resolves when the contact sheets due so far (of one file, or all) are written: before reading one, on close. */
export async function sheetsSettled(file?: string): Promise<void> {
  if (!file && quietTimer) {
    clearTimeout(quietTimer);
    quietTimer = null;
  }
  await drawDue(file);
}

export interface MaterialiseDeps {
  decodeImage: DecodeImage;
  log: Logger;
  /** Crops are made only from sources under these (BUCKET_ROOTS): a faceset.json may name any path. */
  bucketRoots: readonly string[];
  /** Paths the scans recorded for each photo, in one call (trusted, tried first) [only the members' listed sources]. */
  sourcesOf?: (sha256s: readonly string[]) => Promise<Map<string, string[]>>;
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
  /** Draw the contact sheet before returning ('now'), or queue it and return ('later': decisions) ['now']. */
  sheet?: 'now' | 'later';
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

const isFile = async (p: string): Promise<boolean> => (await stat(p).catch(() => null))?.isFile() ?? false;
/** A member entry with the pose its face record has, when the entry was written before pose existed. */
function withPose(entry: Record<string, unknown>, pose: Pose | undefined): Record<string, unknown> {
  if (entry.pose || !pose) return entry;
  const r = (v: number) => Number(v.toFixed(1));
  return { ...entry, pose: { yaw: r(pose.yaw), pitch: r(pose.pitch), roll: r(pose.roll) } };
}

/** faceset.json's first keys after name and label, as a job writes them. */
const HEADER_ORDER = ['source', 'jobId', 'createdAt', 'params'];


/**
 * Where the identity's folder is on disk now: <name> or _thin/<name>, or null. A folder that is a symlink (or sits
 * below one) is refused with OutputRootRefusedError: it would let a decision write and prune files elsewhere.
 */
export async function findFolder(root: string, name: string): Promise<string | null> {
  for (const rel of [name, `${THIN_DIR}/${name}`]) if ((await realDirState(root, rel)) === 'dir') return rel;
  return null;
}

/** Member file names the folder's faceset.json lists: only plain base names (anything else is never a path). */
export async function listedPngs(dir: string): Promise<Set<string>> {
  try {
    const json = JSON.parse((await readFileNoFollow(join(dir, FACESET_FILE))).toString('utf8')) as { members?: { png?: unknown }[] };
    const members = Array.isArray(json?.members) ? json.members : [];
    return new Set(members.map((m) => (m as { png?: unknown } | null)?.png).filter((p): p is string => isPlainMemberName(p)));
  } catch {
    return new Set();
  }
}

/** Copies a member file without following a symlink at either end: read with O_NOFOLLOW, written to a new file. */
async function copyNoFollow(from: string, to: string): Promise<void> {
  const data = await readFileNoFollow(from);
  const fh = await open(to, 'wx');
  try {
    await fh.writeFile(data);
  } finally {
    await fh.close();
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
    const sheet = join(root, contactSheetPath(identity.name));
    await queueSheet(sheet, async () => {
      await rm(sheet, { force: true });
      sheetsDrawn.delete(sheet);
    }, opts.sheet ?? 'now');
    return { count: 0, left: { nearDuplicate: 0, maxFaces: 0 }, written: false, removed: current !== null, failed: [] };
  }

  const target = join(root, identity.path);
  await ensureRealDir(root, dirname(identity.path));
  let work = target;
  let fresh = false;
  if (current && current !== identity.path) {
    await rename(join(root, current), target);
    await fsyncDir(join(root, current, '..'));
  } else if (!current) {
    work = join(root, `${TEMP_PREFIX}new-${identity.name}-${randomBytes(4).toString('hex')}`);
    await mkdir(work);
    fresh = true;
  }
  try {
    const before = opts.listedBefore ?? (await listedPngs(work));
    // Curation picks the members that become PNGs; the others stay members in the records, listed under `left`.
    const curation = deps.curate ? await deps.curate(draft) : null;
    const exported = curation ? { ...draft, members: draft.members.filter((m) => curation.exported.has(`${m.sha256}:${m.faceIndex}`)) } : draft;
    const failed = await writeMissingPngs(root, work, exported, deps, opts);
    const members = exported.members.filter((m) => !failed.has(m.file));
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
    const keep = new Set([...members.map((m) => m.file), ...identity.foreignMembers.map((m) => (m as { png?: unknown })?.png).filter((p) => isPlainMemberName(p))]);
    if (!opts.keepStale) for (const png of before) if (!keep.has(png) && isPlainMemberName(png)) await rm(memberPath(work, png), { force: true });
    if (fresh) {
      await fsyncDir(work);
      await rename(work, target);
      await fsyncDir(join(target, '..'));
    }
    // A change that left this folder's faces as they were (a label, the other side of a move) keeps its picture.
    const sheet = join(root, contactSheetPath(identity.name));
    const same = !fresh && before.size === members.length && members.every((m) => before.has(m.file)) && (await isFile(sheet));
    if (!opts.keepStale && !same) {
      await queueSheet(sheet, () => writeIdentitySheet(root, identity.name, target, members, deps.log), opts.sheet ?? 'now');
    }
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
  // Only regular files count: a member name that is a symlink (or a folder) is replaced by a real crop.
  const have = await regularFiles(dir);
  const failed = new Map<string, string>();
  const toCrop: { m: IdentityDraft['members'][number]; tmp: string }[] = [];
  for (const m of draft.members) {
    if (!isPlainMemberName(m.file)) {
      failed.set(m.file, 'not a plain file name');
      continue;
    }
    if (have.has(m.file)) continue;
    const src = opts.pngSources?.get(faceKeyOf(m));
    const srcFolder = src && isPlainMemberName(src.png) ? await findFolder(root, src.folder) : null;
    const from = src && srcFolder ? memberPath(join(root, srcFolder), src.png) : null;
    const tmp = join(dir, `${TEMP_PREFIX}${randomBytes(4).toString('hex')}-${m.file}`);
    if (from && (await isFile(from))) {
      try {
        await copyNoFollow(from, tmp);
        await rename(tmp, memberPath(dir, m.file));
        continue;
      } catch {
        await rm(tmp, { force: true }); // a link or unreadable file: cropped from its source instead
      }
    }
    toCrop.push({ m, tmp });
  }
  // The scans' own paths of the photos first (one query for all), then faceset.json's, which may name anything:
  // only paths under BUCKET_ROOTS are ever decoded.
  const recordedOf = toCrop.length && deps.sourcesOf ? await deps.sourcesOf([...new Set(toCrop.map((c) => c.m.sha256))]) : new Map<string, string[]>();
  const crops: (CropRequest & { png: string })[] = [];
  for (const { m, tmp } of toCrop) {
    const e = m.entry as { sources?: unknown; kps?: unknown };
    const listed = Array.isArray(e.sources) ? e.sources.filter((p): p is string => typeof p === 'string') : [];
    const recorded = recordedOf.get(m.sha256) ?? [];
    const paths = [...new Set((await Promise.all([...recorded, ...listed].map((p) => realPathUnder(p, deps.bucketRoots)))).filter((p): p is string => p !== null))];
    // Keypoints come from faceset.json too: five pairs of finite numbers, or the crop is not made.
    const kps = entryKps(e.kps);
    if (!kps) {
      failed.set(m.file, 'no keypoints to crop from');
      continue;
    }
    if (!paths.length) {
      failed.set(m.file, listed.length ? 'no source lies under BUCKET_ROOTS' : 'no source to crop from');
      continue;
    }
    crops.push({ face: { sha256: m.sha256, faceIndex: m.faceIndex, kps, paths }, file: tmp, png: m.file });
  }
  if (!crops.length) return failed;
  const size = opts.exportSize ?? exportSizeOf(draft);
  const reasons = await writeCrops(crops, deps.decodeImage, size);
  for (const [i, c] of crops.entries()) {
    const why = reasons.get(i);
    if (why) failed.set(c.png, why);
    else await rename(c.file, memberPath(dir, c.png));
  }
  return failed;
}

function exportSizeOf(d: IdentityDraft): number {
  const v = (d.identity.header.params as { exportSize?: unknown } | undefined)?.exportSize;
  return typeof v === 'number' && v >= 16 ? v : 512;
}

/**
 * Thumbnails of member files as the sheet shows them, by path and the file's identity (inode, size, mtime): a sheet
 * redrawn after a decision decodes only the faces it did not show before. About 10 kB each, 32 MB in all.
 */
const cells = new LRUCache<string, Buffer>({ maxSize: 32 * 1024 * 1024, sizeCalculation: (b) => b.length });

async function sheetCell(path: string): Promise<Buffer | null> {
  const info = await lstat(path).catch(() => null);
  if (!info?.isFile()) return null;
  const key = `${path}\0${info.ino}:${info.size}:${info.mtimeMs}`;
  const hit = cells.get(key);
  if (hit) return hit;
  try {
    // Read without following links: a member file swapped for a symlink never draws another file into the sheet.
    const cell = await sharp(await readFileNoFollow(path)).resize(SHEET_THUMB, SHEET_THUMB, { fit: 'cover' }).png({ compressionLevel: 1 }).toBuffer();
    cells.set(key, cell);
    return cell;
  } catch {
    return null;
  }
}

/** Writes (or removes, when empty) the identity's contact sheet from the PNGs in `dir`, nearest the centroid first. */
export async function writeIdentitySheet(root: string, name: string, dir: string, members: IdentityDraft['members'], log: Logger): Promise<void> {
  const file = join(root, contactSheetPath(name));
  try {
    const dist = (m: (typeof members)[number]) => ((m.entry as { distance?: unknown }).distance as number | undefined) ?? 1;
    const pngs = [...members].sort((a, b) => dist(a) - dist(b)).filter((m) => isPlainMemberName(m.file)).map((m) => join(dir, m.file));
    if (!pngs.length) {
      await rm(file, { force: true });
      sheetsDrawn.delete(file);
      return;
    }
    // A label or a change beyond the sheet's first SHEET_MAX faces leaves the picture as it is: not drawn again.
    const signature = `${pngs.slice(0, SHEET_MAX).join('\n')}\n${pngs.length}`;
    if (sheetsDrawn.get(file) === signature && (await isFile(file))) return;
    await ensureRealDir(root, IDENTITY_SHEETS_DIR);
    const images = (await Promise.all(pngs.slice(0, SHEET_MAX).map((p) => sheetCell(p)))).filter((b): b is Buffer => b !== null);
    if (!images.length) return;
    await writeFileAtomic(file, await renderContactSheet(images, members.map((m) => (m.entry as { pose?: Pose }).pose)));
    sheetsDrawn.set(file, signature);
  } catch (err) {
    log.warn({ err, identity: name }, 'identity contact sheet could not be written');
  }
}

