// Formats of an output root, rebuilt from the records: _formats/<format>/..., each format built under a temp name,
// renamed into place and the old one removed. Files whose face and settings did not change are linked from the old
// build (no decode, no render); only new faces are rendered. Call under the output-root lock.
import { randomBytes } from 'node:crypto';
import { link, lstat, readdir, rename, rm } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import sharp from 'sharp';
import { fsyncDir, writeFileAtomic } from '../export/atomic-write';
import { sanitizeStem } from '../export/naming';
import { TEMP_PREFIX } from '../export/output-root';
import { ensureRealDir, readFileNoFollow, realDirState } from '../export/root-guard';
import { writeDurable, type DecodeImage } from '../export/write-facesets';
import type { Box, Point, RgbImage } from '../engine/types';
import { DecodeError } from '../image/decode-error';
import { isInside } from '../jobs/paths';
import type { Logger } from '../logger';
import { FORMAT_NAMES, type FormatName } from '../params';
import { DFL_FACE_TYPES, dflFormat, type DflFaceType } from './dfl';
import { faceswapAlignmentsFile, faceswapFileName, faceswapFormat } from './faceswap';
import { faceKey, type FormatFace, type FormatParams, type FormatSet, type PlannedFile, type SetFormat } from './format-types';
import { LORA_DEFAULTS, loraFormat } from './lora';
import { displayedSize, xmpSidecar, type XmpRegion } from './xmp';

/** The formats an output root can keep (defined once, in params.ts). */
export const FORMATS = FORMAT_NAMES;
export type { FormatName };
/** Formats an identity's archive can be downloaded in (xmp is per photo, not per set). */
export const ARCHIVE_FORMATS = ['facesets', 'dfl', 'faceswap', 'lora'] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

export const FORMATS_DIR = '_formats';

export type { FormatFace, FormatParams, FormatSet } from './format-types';

/** The per-set formats, one module each: adding a format is adding its module and a line here. */
const SET_FORMATS: Record<Exclude<FormatName, 'xmp'>, SetFormat> = { dfl: dflFormat, faceswap: faceswapFormat, lora: loraFormat };
/** What each build remembers of its files: face key and settings per file, so the next build can reuse them. */
const INDEX_FILE = '.facesets-index.json';

export const DEFAULT_FORMAT_PARAMS: FormatParams = {
  dflFaceType: 'whole_face',
  faceSize: 512,
  loraSize: LORA_DEFAULTS.size,
  loraRepeats: LORA_DEFAULTS.repeats,
  loraClass: LORA_DEFAULTS.className,
};

/** Reads format params from anything (a stored jsonb, job params); what is missing or wrong takes its default. */
export function formatParamsOf(v: unknown): FormatParams {
  const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  const int = (x: unknown, lo: number, hi: number, d: number) => (typeof x === 'number' && Number.isInteger(x) && x >= lo && x <= hi ? x : d);
  return {
    dflFaceType: DFL_FACE_TYPES.includes(o.dflFaceType as DflFaceType) ? (o.dflFaceType as DflFaceType) : DEFAULT_FORMAT_PARAMS.dflFaceType,
    faceSize: int(o.faceSize ?? o.exportSize, 64, 4096, DEFAULT_FORMAT_PARAMS.faceSize),
    loraSize: int(o.loraSize, 64, 4096, DEFAULT_FORMAT_PARAMS.loraSize),
    loraRepeats: int(o.loraRepeats, 1, 10_000, DEFAULT_FORMAT_PARAMS.loraRepeats),
    loraClass: typeof o.loraClass === 'string' && o.loraClass.trim() ? o.loraClass.trim() : DEFAULT_FORMAT_PARAMS.loraClass,
  };
}

export interface FormatDeps {
  decodeImage: DecodeImage;
  /** 68 iBUG landmarks of the face with this detector box, in the image's pixels. */
  landmarks68: (img: RgbImage, box: Box) => Promise<Point[]>;
  log: Logger;
}

export interface FormatsResult {
  written: FormatName[];
  removed: FormatName[];
  /** Files rendered / linked from the previous build, per format. */
  rendered: Partial<Record<FormatName, number>>;
  reused: Partial<Record<FormatName, number>>;
  failed: string[];
}

/** What a build's index remembers per file: its reuse key, and the landmarks and frame size it was made from. */
interface IndexEntry {
  k: string;
  lm: Point[];
  d: [number, number];
}

export interface WriteFormatsOptions {
  /**
   * Names of the sets a decision touched (either side of a merge, a retired one included): only their folders and
   * the sidecars of their photos are rewritten. Absent: everything is rebuilt (jobs, PUT /output-roots/formats).
   */
  touched?: ReadonlySet<string>;
}

/**
 * Makes `_formats/<format>` equal to the sets for every format in `formats`, and removes the folders of formats not
 * in it. `sets` are all active sets of the root: a set that is not there (retired, merged away) has no files after.
 * Per-set formats rewrite `_formats/<format>/<set>/` (built under a temp name, renamed into place, the old one
 * removed); xmp rewrites its sidecars atomically one by one, or the whole tree when nothing says what changed.
 */
export async function writeFormats(root: string, formats: readonly FormatName[], sets: readonly FormatSet[], params: FormatParams, deps: FormatDeps, opts: WriteFormatsOptions = {}): Promise<FormatsResult> {
  const result: FormatsResult = { written: [], removed: [], rendered: {}, reused: {}, failed: [] };
  const state = await realDirState(root, FORMATS_DIR);
  for (const f of FORMATS) {
    if (formats.includes(f) || state === 'missing') continue;
    if ((await realDirState(root, `${FORMATS_DIR}/${f}`)) === 'dir') {
      await swapOut(join(root, FORMATS_DIR), f);
      result.removed.push(f);
    }
  }
  if (!formats.length) return result;
  await ensureRealDir(root, FORMATS_DIR);
  for (const e of await readdir(join(root, FORMATS_DIR))) if (e.startsWith(TEMP_PREFIX)) await rm(join(root, FORMATS_DIR, e), { recursive: true, force: true });
  const lm = new Map<string, Point[]>();
  const imgs = new ImageCache(deps.decodeImage);
  try {
    for (const f of FORMATS.filter((x) => formats.includes(x))) {
      const counts = f === 'xmp' ? await writeXmp(root, sets, opts.touched, deps.decodeImage) : await writeSetFormat(root, f, sets, params, opts.touched, deps, lm, imgs);
      result.rendered[f] = counts.rendered;
      result.reused[f] = counts.reused;
      result.failed.push(...counts.failed);
      result.written.push(f);
    }
  } finally {
    imgs.clear();
  }
  return result;
}

interface BuildCounts {
  rendered: number;
  reused: number;
  failed: string[];
  /** The old folder, renamed away; removed by the caller once no later build of the call can take files from it. */
  gone?: string;
}

const setDirName = (name: string): string => sanitizeStem(`${name}.x`);

/** One per-set format: the touched (or all) sets' folders rebuilt, folders of sets no longer active removed. */
async function writeSetFormat(
  root: string, f: Exclude<FormatName, 'xmp'>, sets: readonly FormatSet[], params: FormatParams, touched: ReadonlySet<string> | undefined,
  deps: FormatDeps, lms: Map<string, Point[]>, imgs: ImageCache,
): Promise<BuildCounts> {
  const counts: BuildCounts = { rendered: 0, reused: 0, failed: [] };
  const base = `${FORMATS_DIR}/${f}`;
  await ensureRealDir(root, base);
  const entries = await readdir(join(root, base), { withFileTypes: true });
  // What an interrupted build left (temp and renamed-away folders): under the root's lock nobody else owns them.
  for (const e of entries) if (e.name.startsWith(TEMP_PREFIX)) await rm(join(root, base, e.name), { recursive: true, force: true });
  const present = new Map(entries.filter((e) => !e.name.startsWith('.')).map((e) => [e.name, e]));
  const active = new Set(sets.filter((s) => s.faces.length).map((s) => setDirName(s.name)));
  const build = sets.filter((s) => s.faces.length && (!touched || touched.has(s.name) || !present.get(setDirName(s.name))?.isDirectory()));
  // Files a build may take over: those of every folder being rebuilt or removed (a merge moves them between sets).
  const pool = new Map<string, { abs: string; entry: IndexEntry }>();
  for (const [name, e] of present) {
    if (!e.isDirectory()) continue;
    if (touched && !touched.has(name) && active.has(name) && !build.some((s) => setDirName(s.name) === name)) continue;
    for (const [k, v] of await previousFiles(join(root, base, name))) pool.set(k, { abs: join(root, base, name, v.rel), entry: v.entry });
  }
  const gone: string[] = [];
  try {
    for (const set of build) {
      // A link or file where the set's folder goes is replaced (the entry removed, never its target), not followed.
      const there = present.get(setDirName(set.name));
      if (there && !there.isDirectory()) await rm(join(root, base, setDirName(set.name)), { force: true });
      const c = await buildDir(root, `${base}/${setDirName(set.name)}`, SET_FORMATS[f].files(set, params), pool, deps, lms, imgs);
      counts.rendered += c.rendered;
      counts.reused += c.reused;
      counts.failed.push(...c.failed.map((x) => `${f}/${setDirName(set.name)}/${x}`));
      if (c.gone) gone.push(c.gone);
    }
  } finally {
    for (const g of gone) await rm(g, { recursive: true, force: true });
  }
  for (const [name, e] of present) {
    if (active.has(name)) continue;
    if (e.isDirectory()) await swapOut(join(root, base), name);
    else await rm(join(root, base, name), { force: true }); // a file or link where a set folder would be: the entry goes, never its target
  }
  return counts;
}

/** Displayed sizes of photos by sha256 (read from their headers once per process). */
const sizes = new Map<string, { width: number; height: number }>();

async function displayedSizeOf(face: FormatFace, decode?: DecodeImage): Promise<{ width: number; height: number } | null> {
  const hit = sizes.get(face.sha256);
  if (hit) return hit;
  const found = await headerSize(face);
  if (found || !decode) return found;
  // a format sharp reads no header of (the decoder knows more, e.g. PSD): decoded once, EXIF-rotated like the boxes
  for (const p of face.paths) {
    try {
      const img = await decode(p);
      const s = { width: img.width, height: img.height };
      sizes.set(face.sha256, s);
      return s;
    } catch {
      // next path
    }
  }
  return null;
}

async function headerSize(face: FormatFace): Promise<{ width: number; height: number } | null> {
  for (const p of face.paths) {
    try {
      const m = await sharp(p).metadata();
      if (!m.width || !m.height) continue;
      const s = displayedSize(m.width, m.height, m.orientation);
      if (sizes.size > 100_000) sizes.clear();
      sizes.set(face.sha256, s);
      return s;
    } catch {
      // unreadable at this path: try the next
    }
  }
  return null;
}

/** Where a photo's sidecar goes: `<bucket folder name>/<path inside the bucket>.xmp`, or null (not in the bucket). */
function sidecarRel(bucket: string, path: string): string | null {
  if (!isInside(bucket, path) || path === bucket) return null;
  const rel = `${sanitizeStem(`${basename(bucket.replace(/[\\/]+$/, '')) || 'bucket'}.x`)}/${relative(bucket, path).split(/[\\/]/).join('/')}.xmp`;
  return rel.split('/').some((part) => part === '' || part === '.' || part === '..' || part.startsWith('.')) ? null : rel;
}

/** Every sidecar of the sets: rel → a face of the photo (for its size) and its regions; and the rels per set. */
function sidecarsOf(sets: readonly FormatSet[]): { byRel: Map<string, { face: FormatFace; regions: XmpRegion[] }>; bySet: Map<string, string[]> } {
  const byRel = new Map<string, { face: FormatFace; regions: XmpRegion[] }>();
  const bySet = new Map<string, string[]>();
  for (const set of sets) {
    const name = set.label ?? set.name;
    const mine = new Set<string>();
    for (const face of set.faces) {
      for (const p of face.paths) {
        const rel = sidecarRel(set.bucket, p);
        if (!rel) continue;
        const at = byRel.get(rel) ?? byRel.set(rel, { face, regions: [] }).get(rel)!;
        at.regions.push({ name, box: face.box });
        mine.add(rel);
      }
    }
    bySet.set(set.name, [...mine].sort());
  }
  return { byRel, bySet };
}

async function sidecarText(face: FormatFace, regions: readonly XmpRegion[], decode: DecodeImage): Promise<string | null> {
  const size = await displayedSizeOf(face, decode);
  return size ? xmpSidecar(size.width, size.height, regions) : null;
}

/** `_formats/xmp/.facesets-index.json`: the sidecars of each set, so a decision rewrites only its sets' photos. */
async function readXmpIndex(root: string): Promise<Map<string, string[]> | null> {
  try {
    const v = JSON.parse((await readFileNoFollow(join(root, FORMATS_DIR, 'xmp', INDEX_FILE))).toString('utf8')) as { sets?: unknown };
    if (!v.sets || typeof v.sets !== 'object') return null;
    const out = new Map<string, string[]>();
    for (const [k, rels] of Object.entries(v.sets as Record<string, unknown>)) {
      if (Array.isArray(rels)) out.set(k, rels.filter((r): r is string => typeof r === 'string' && !r.split('/').some((x) => !x || x === '.' || x === '..' || x.startsWith('.'))));
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * xmp: with `touched` (and an index), the sidecars of the touched sets' photos, before and after, are rewritten one
 * by one (atomically) or removed when no region is left; otherwise the whole tree is rebuilt and swapped in.
 */
async function writeXmp(root: string, sets: readonly FormatSet[], touched: ReadonlySet<string> | undefined, decode: DecodeImage): Promise<BuildCounts> {
  const { byRel, bySet } = sidecarsOf(sets);
  const index = { sets: Object.fromEntries(bySet) };
  const old = touched && (await realDirState(root, `${FORMATS_DIR}/xmp`)) === 'dir' ? await readXmpIndex(root) : null;
  if (!touched || !old) {
    const plan: PlannedFile[] = [];
    for (const [rel, { face, regions }] of [...byRel].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const text = await sidecarText(face, regions, decode);
      if (text) plan.push({ rel, reuseKey: null, face: null, make: null, data: text });
    }
    plan.push({ rel: INDEX_FILE, reuseKey: null, face: null, make: null, data: `${JSON.stringify(index)}\n` });
    const c = await buildDir(root, `${FORMATS_DIR}/xmp`, plan, new Map(), null, new Map(), null, false);
    if (c.gone) await rm(c.gone, { recursive: true, force: true });
    return c;
  }
  const affected = new Set<string>();
  for (const name of touched) for (const rel of [...(old.get(name) ?? []), ...(bySet.get(name) ?? [])]) affected.add(rel);
  let rendered = 0;
  for (const rel of [...affected].sort()) {
    const file = join(root, FORMATS_DIR, 'xmp', rel);
    const at = byRel.get(rel);
    const text = at ? await sidecarText(at.face, at.regions, decode) : null;
    if (text) {
      await ensureRealDir(root, `${FORMATS_DIR}/xmp/${rel.split('/').slice(0, -1).join('/')}`);
      await writeFileAtomic(file, text);
      rendered++;
    } else if ((await realDirState(root, `${FORMATS_DIR}/xmp/${rel.split('/').slice(0, -1).join('/')}`)) === 'dir') {
      await rm(file, { force: true });
    }
  }
  await writeFileAtomic(join(root, FORMATS_DIR, 'xmp', INDEX_FILE), `${JSON.stringify(index)}\n`);
  return { rendered, reused: 0, failed: [] };
}

/** Decoded sources, kept only while one format's build needs them (a set's faces of one photo decode it once). */
class ImageCache {
  private readonly map = new Map<string, RgbImage | null>();
  constructor(private readonly decode: DecodeImage) {}
  async get(face: FormatFace): Promise<RgbImage | null> {
    if (this.map.has(face.sha256)) return this.map.get(face.sha256)!;
    let img: RgbImage | null = null;
    for (const p of face.paths) {
      try {
        img = await this.decode(p);
        break;
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
      }
    }
    if (this.map.size >= 2) this.map.delete(this.map.keys().next().value!);
    this.map.set(face.sha256, img);
    return img;
  }
  clear(): void {
    this.map.clear();
  }
}

const isPoint = (p: unknown): p is Point => Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number' && Number.isFinite(x));

/** reuse key → file of the previous build, read from its index (only plain relative paths, well-formed entries). */
async function previousFiles(dir: string): Promise<Map<string, { rel: string; entry: IndexEntry }>> {
  const out = new Map<string, { rel: string; entry: IndexEntry }>();
  try {
    const index = JSON.parse((await readFileNoFollow(join(dir, INDEX_FILE))).toString('utf8')) as unknown;
    if (!index || typeof index !== 'object') return out;
    for (const [rel, v] of Object.entries(index as Record<string, unknown>)) {
      const e = v as Partial<IndexEntry> | null;
      if (!e || typeof e.k !== 'string' || !Array.isArray(e.lm) || e.lm.length !== 68 || !e.lm.every(isPoint) || !isPoint(e.d)) continue;
      if (rel.split('/').some((p) => !p || p === '.' || p === '..' || p.startsWith('.'))) continue;
      out.set(e.k, { rel, entry: e as IndexEntry });
    }
  } catch {
    // no previous build, or an unreadable index: everything is rendered
  }
  return out;
}

/**
 * Builds the folder `rel` (below `root`) from `plan` under a temp name beside it, then swaps it in for the old one.
 * Face files whose reuse key is in `pool` are hard-linked from there instead of rendered. `withIndex`: the folder
 * gets an index of its face files (reuse key, landmarks, frame size) for the next build.
 */
async function buildDir(
  root: string, rel: string, plan: PlannedFile[], pool: Map<string, { abs: string; entry: IndexEntry }>,
  deps: FormatDeps | null, lms: Map<string, Point[]>, imgs: ImageCache | null, withIndex = true,
): Promise<BuildCounts> {
  const parentRel = rel.split('/').slice(0, -1).join('/');
  const leaf = rel.split('/').pop()!;
  const base = join(root, parentRel);
  const current = join(root, rel);
  const hasOld = (await realDirState(root, rel)) === 'dir';
  const tmpName = `${TEMP_PREFIX}${leaf}-${randomBytes(4).toString('hex')}`;
  const tmp = join(base, tmpName);
  const index: Record<string, IndexEntry> = {};
  const counts: BuildCounts = { rendered: 0, reused: 0, failed: [] };
  try {
    await ensureRealDir(root, `${parentRel}/${tmpName}`);
    const made = new Set<string>();
    const ensureParent = async (fileRel: string) => {
      const parent = fileRel.split('/').slice(0, -1).join('/');
      if (parent && !made.has(parent)) {
        await ensureRealDir(root, `${parentRel}/${tmpName}/${parent}`);
        made.add(parent);
      }
    };
    // Faces first, grouped by photo so each is decoded once; then data files (captions, sidecars, alignments).
    const faces = plan.filter((f) => f.make).sort((a, b) => (a.face!.sha256 < b.face!.sha256 ? -1 : a.face!.sha256 > b.face!.sha256 ? 1 : 0));
    const okFaces = new Set<string>();
    for (const f of faces) {
      await ensureParent(f.rel);
      const out = join(tmp, f.rel);
      const prev = f.reuseKey ? pool.get(f.reuseKey) : undefined;
      if (prev && (await linkRegular(prev.abs, out))) {
        counts.reused++;
        index[f.rel] = prev.entry;
        f.onReady?.(prev.entry.lm, prev.entry.d);
        okFaces.add(f.rel);
        continue;
      }
      const img = imgs ? await imgs.get(f.face!) : null;
      if (!img || !deps) {
        counts.failed.push(`${f.rel}: source unreadable`);
        continue;
      }
      const lm = await landmarksOf(f.face!, img, deps, lms);
      await writeDurable(out, await f.make!(img, lm));
      counts.rendered++;
      if (f.reuseKey) index[f.rel] = { k: f.reuseKey, lm, d: [img.height, img.width] };
      f.onReady?.(lm, [img.height, img.width]);
      okFaces.add(f.rel);
    }
    for (const f of plan.filter((x) => !x.make)) {
      await ensureParent(f.rel);
      if (f.alignments) {
        const dir = f.rel.slice(0, f.rel.lastIndexOf('/') + 1);
        const kept = f.alignments.filter((a) => okFaces.has(`${dir}${faceswapFileName(a)}`));
        if (kept.length) await writeDurable(join(tmp, f.rel), faceswapAlignmentsFile(kept));
      } else if (f.data !== null) {
        await writeDurable(join(tmp, f.rel), f.data);
      }
    }
    if (withIndex) await writeDurable(join(tmp, INDEX_FILE), `${JSON.stringify(index)}\n`);
    await fsyncDir(tmp);
    if (hasOld) {
      const gone = join(base, `${TEMP_PREFIX}gone-${leaf}-${randomBytes(4).toString('hex')}`);
      await rename(current, gone);
      await rename(tmp, current);
      counts.gone = gone;
      // files of the old folder that later builds of this call may take are where it went now
      for (const v of pool.values()) if (v.abs.startsWith(`${current}/`)) v.abs = `${gone}${v.abs.slice(current.length)}`;
    } else {
      await rename(tmp, current);
    }
    await fsyncDir(base);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return counts;
}

async function landmarksOf(face: FormatFace, img: RgbImage, deps: FormatDeps, cache: Map<string, Point[]>): Promise<Point[]> {
  const k = faceKey(face);
  const hit = cache.get(k);
  if (hit) return hit;
  const lm = await deps.landmarks68(img, face.box);
  cache.set(k, lm);
  return lm;
}

/** Hard-links a regular file of the previous build (never a symlink: checked with lstat); false when it cannot. */
async function linkRegular(from: string, to: string): Promise<boolean> {
  const info = await lstat(from).catch(() => null);
  if (!info?.isFile()) return false;
  try {
    await link(from, to);
    return true;
  } catch {
    try {
      await writeDurable(to, await readFileNoFollow(from));
      return true;
    } catch {
      return false;
    }
  }
}

/** Renames `<base>/<name>` away, then removes it: readers never see a half-removed format. */
async function swapOut(base: string, name: string): Promise<void> {
  const gone = join(base, `${TEMP_PREFIX}gone-${name}-${randomBytes(4).toString('hex')}`);
  await rename(join(base, name), gone);
  await fsyncDir(base);
  await rm(gone, { recursive: true, force: true });
}

/** Names of the files of one set in one format, for the archive: relative to `_formats/<format>/`. */
export async function formatSetFiles(root: string, format: Exclude<FormatName, 'xmp'>, setName: string): Promise<string[]> {
  const rel = `${FORMATS_DIR}/${format}/${sanitizeStem(`${setName}.x`)}`;
  if ((await realDirState(root, rel)) !== 'dir') return [];
  const out: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) await walk(join(dir, e.name), `${prefix}${e.name}/`);
      else if (e.isFile()) out.push(`${prefix}${e.name}`);
    }
  };
  await walk(join(root, rel), `${sanitizeStem(`${setName}.x`)}/`);
  return out.sort();
}
