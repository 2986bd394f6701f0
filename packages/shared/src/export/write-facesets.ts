// Writing face sets: aligned crops grouped by source (each file decoded once), temp folder + rename per new set.
import { open, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fsyncDir } from './atomic-write';
import type { ExportPlan } from '../clustering/discover';
import { FACESET_FILE, facesetMember, serializeFaceset, type FacesetFile } from './faceset-file';
import type { ManifestEntry } from './manifest';
import { sanitizeStem } from './naming';
import { facesetName } from './numbering';
import type { DiscoveryFace } from '../clustering/types';
import type { RgbImage } from '../engine/types';
import { DecodeError } from '../image/decode-error';
import type { JobParams } from '../params';
import type { FacesetOutcome } from '../report/types';
import { PNG_SET_WRITER } from './set-writer';
import { ensureDir, TEMP_PREFIX, THIN_DIR } from './output-root';

export type DecodeImage = (path: string) => Promise<RgbImage>;

export interface CropRequest {
  face: Pick<DiscoveryFace, 'sha256' | 'faceIndex' | 'kps' | 'paths'>;
  /** Absolute path of the PNG to write. */
  file: string;
}

/** Writes a file and fsyncs it: a face set renamed into place must not hold empty PNGs after a power cut. */
export async function writeDurable(file: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(file, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes every requested crop, decoding each source once (tries its paths in order). Returns the reason per
 * request that could not be written; an unreadable source skips its faces, any other failure aborts the export.
 */
export async function writeCrops(requests: readonly CropRequest[], decode: DecodeImage, size: number): Promise<Map<number, string>> {
  const failed = new Map<number, string>();
  const bySource = new Map<string, number[]>();
  requests.forEach((r, i) => {
    const list = bySource.get(r.face.sha256);
    if (list) list.push(i);
    else bySource.set(r.face.sha256, [i]);
  });
  for (const [sha256, idx] of [...bySource].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const paths = requests[idx[0]!]!.face.paths;
    let img: RgbImage | undefined;
    const reasons: string[] = [];
    for (const p of paths) {
      try {
        img = await decode(p);
        break;
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        reasons.push(err.message);
      }
    }
    if (!img) {
      const why = paths.length ? `source ${sha256.slice(0, 8)} unreadable at export: ${reasons.join('; ')}` : `source ${sha256.slice(0, 8)} has no path in the bucket`;
      for (const i of idx) failed.set(i, why);
      continue;
    }
    for (const i of idx) {
      const r = requests[i]!;
      await writeDurable(r.file, await PNG_SET_WRITER.render(img, r.face.kps, size));
    }
  }
  return failed;
}

/** `<bucket folder name>.txt`: where the set came from, for people browsing the output root. */
export function provenanceFile(bucket: string): string {
  return `${sanitizeStem(`${basename(bucket.replace(/[\\/]+$/, '')) || 'bucket'}.x`)}.txt`;
}

export function provenanceText(ctx: ExportContext): string {
  return [
    `bucket: ${ctx.bucket}`,
    `job: ${ctx.jobId}`,
    `created: ${ctx.createdAt}`,
    `params: ${JSON.stringify(ctx.params)}`,
    '',
  ].join('\n');
}

export interface ExportContext {
  root: string;
  jobId: string;
  bucket: string;
  createdAt: string;
  params: JobParams;
  decodeImage: DecodeImage;
  /** Test seam: runs after the crops are written and before any set is moved into place. */
  afterCrops?: () => Promise<void>;
}

export interface NewFacesetsResult {
  outcomes: FacesetOutcome[];
  entries: { facesets: ManifestEntry[]; thin_eras: ManifestEntry[] };
  added: string[];
  /** Each set as written: its faceset.json header and, per member entry, the face behind it (for its record). */
  sets: WrittenSet[];
}

/** A new set a job wrote, for its record: the written faceset.json and the face behind each member. */
export interface WrittenSet {
  name: string;
  path: string;
  thin: boolean;
  header: Record<string, unknown>;
  members: { sha256: string; faceIndex: number; entry: Record<string, unknown> }[];
  /** Centroid of the set's planned members. */
  centroid: Float32Array | null;
}

/**
 * Exports the kept clusters as new sets numbered from `firstNumber`, in plan order. All crops go to temp folders
 * first; only then are sets numbered (a set whose crops all failed takes no number), completed and renamed into
 * place. On any failure the temp folders are removed and nothing has been renamed yet, unless the failure is in
 * the renames themselves.
 */
export async function writeNewFacesets(plans: readonly ExportPlan[], firstNumber: number, ctx: ExportContext): Promise<NewFacesetsResult> {
  const temps = plans.map((_, k) => join(ctx.root, `${TEMP_PREFIX}${ctx.jobId}-c${k}`));
  try {
    const requests: (CropRequest & { plan: number; member: number })[] = [];
    for (const [k, plan] of plans.entries()) {
      if (!plan.members.length) continue;
      await rm(temps[k]!, { recursive: true, force: true });
      await ensureDir(temps[k]!);
      plan.members.forEach((m, j) => requests.push({ face: m.face, file: join(temps[k]!, PNG_SET_WRITER.fileName(m.face)), plan: k, member: j }));
    }
    const failed = await writeCrops(requests, ctx.decodeImage, ctx.params.exportSize);
    await ctx.afterCrops?.();

    const outcomes: FacesetOutcome[] = [];
    const entries: NewFacesetsResult['entries'] = { facesets: [], thin_eras: [] };
    const added: string[] = [];
    const sets: NewFacesetsResult['sets'] = [];
    let next = firstNumber;
    for (const [k, plan] of plans.entries()) {
      const base = {
        inputFaces: plan.inputFaces,
        sources: plan.sources,
        exportGateDropped: plan.exportGateDropped,
        outliersDropped: plan.outliersDropped,
      };
      const mine = requests.map((r, i) => ({ r, i })).filter(({ r }) => r.plan === k);
      const written = mine.filter(({ i }) => !failed.has(i));
      const exportFailed = mine.length - written.length;
      if (!written.length) {
        const skipped = plan.members.length
          ? `no crop could be written (${failed.get(mine[0]!.i)})`
          : 'empty after export gates';
        outcomes.push({ name: null, path: null, ...base, exported: 0, ...(exportFailed ? { exportFailed } : {}), thin: false, skipped });
        await rm(temps[k]!, { recursive: true, force: true });
        continue;
      }
      const name = facesetName(next++);
      const thin = written.length < ctx.params.thinBelow;
      const path = thin ? `${THIN_DIR}/${name}` : name;
      const file: FacesetFile = {
        name,
        source: ctx.bucket,
        jobId: ctx.jobId,
        createdAt: ctx.createdAt,
        params: { ...ctx.params },
        ...plan.extra,
        members: written.map(({ r }) => {
          const m = plan.members[r.member]!;
          return facesetMember({ ...m.face, png: basename(r.file), distance: m.distance });
        }),
      };
      await writeDurable(join(temps[k]!, FACESET_FILE), serializeFaceset(file));
      await writeDurable(join(temps[k]!, provenanceFile(ctx.bucket)), provenanceText(ctx));
      await fsyncDir(temps[k]!);
      if (thin) await ensureDir(join(ctx.root, THIN_DIR));
      // rename() would replace an empty folder silently; numbers past every used one make this a can't-happen guard.
      await rename(temps[k]!, join(ctx.root, path)).catch((err: Error) => {
        throw new Error(`cannot move ${name} into ${ctx.root}: ${err.message}`, { cause: err });
      });
      await fsyncDir(thin ? join(ctx.root, THIN_DIR) : ctx.root);
      const entry: ManifestEntry = { name, path, count: written.length, source: ctx.bucket, jobId: ctx.jobId, createdAt: ctx.createdAt, ...plan.extra };
      (thin ? entries.thin_eras : entries.facesets).push(entry);
      added.push(name);
      const { members: entries_, ...header } = file;
      sets.push({
        name, path, thin, header,
        members: written.map(({ r }, j) => ({ sha256: r.face.sha256, faceIndex: r.face.faceIndex, entry: entries_[j] as unknown as Record<string, unknown> })),
        centroid: plan.centroid,
      });
      outcomes.push({ name, path, ...base, exported: written.length, ...(exportFailed ? { exportFailed } : {}), thin });
    }
    return { outcomes, entries, added, sets };
  } finally {
    await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
  }
}
