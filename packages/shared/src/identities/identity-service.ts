// Identities of output roots as a service: adoption and sync of folders, decisions, undo, and what jobs read and add.
import { lstat, readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { centroid, cosineDistance } from '../clustering/vectors';
import type { StoredFace } from '../clustering/types';
import { matchMembers } from '../coverage/coverage';
import { DecisionsRepository, type DecisionRecord } from '../db/decisions.repository';
import { FacesRepository, type FaceRecord } from '../db/faces.repository';
import { IdentitiesRepository, type IdentityRecord, type MemberRecord } from '../db/identities.repository';
import type { OutputRootLock } from '../db/locks.repository';
import { jsonbSafe } from '../db/jsonb';
import { inTransaction, type Db, type DbClient } from '../db/pool';
import { SourcesRepository } from '../db/sources.repository';
import type { ManifestEvent } from '../events/manifest-events';
import { FACESET_FILE, facesetMember } from '../export/faceset-file';
import { readManifest, writeManifest } from '../export/manifest';
import { cropFileName } from '../export/naming';
import { facesetName, facesetNumber } from '../export/numbering';
import { removeStaleTemps, THIN_DIR } from '../export/output-root';
import { memberPath, OutputRootRefusedError, readFileNoFollow, realDirState, realPathUnder } from '../export/root-guard';
import { REPORTS_DIR } from '../report/markdown';
import type { DecodeImage, WrittenSet } from '../export/write-facesets';
import type { Logger } from '../logger';
import { DEFAULT_PARAMS, type JobParams } from '../params';
import { REPO_ROOT } from '../config';
import { PNG_SET_WRITER } from '../export/set-writer';
import { landmarks68Provider } from '../formats/landmarks';
import { RootFormatsKeeper } from '../formats/root-formats';
import { formatSetFiles, FORMATS_DIR, type ArchiveFormat, type FormatDeps, type FormatName, type FormatParams } from '../formats/write-formats';
import { LRUCache } from 'lru-cache';
import sharp from 'sharp';
import { renderCropPng } from '../export/crops';
import { isInside, overlappingRoot } from '../jobs/paths';
import { labelFromFile, labelProblem } from './label';
import type { DecisionKind, FaceOrigin, IdentitySummary, Suggestions, SyncResult } from './contracts';
import { decodeFaceId, encodeFaceId, faceKeyOf, type FaceKey } from './face-id';
import { applyIdentities, type IdentityManifestState } from './manifest-entries';
import type { LeftOut } from '../curation/curate';
import { curationFor, type CurateDraft } from './curation';
import { contactSheetPath, findFolder, IDENTITY_SHEETS_DIR, listedPngs, materialiseIdentity, sheetsSettled, writeIdentitySheet, type MaterialiseResult, type PngSources } from './materialise';
import {
  assignFaces,
  FaceNotInIdentityError,
  mergeInto,
  placement,
  rejectFaces,
  snapshot,
  splitOff,
  updatePlacement,
  type Era,
  type IdentityDraft,
  type IdentitySnapshot,
} from './records';

export interface IdentityServiceDeps {
  db: Db;
  lock: OutputRootLock;
  decodeImage: DecodeImage;
  /** The manifest-update event, on the same channel jobs publish on. */
  publish(event: ManifestEvent): Promise<void>;
  log: Logger;
  /** Model pack whose face records adopted folders are matched against. */
  modelPack: string;
  /** Face records with embeddings [FacesRepository on db]; tests may pass faces computed in memory. */
  faces?: Pick<FacesRepository, 'facesOfSources'>;
  /** BUCKET_ROOTS: the only places member sources are read from (a faceset.json may name any path). */
  bucketRoots: readonly string[];
  /** OUTPUT_ROOTS: every sync and decision re-checks that its root is still one of them, and still there. */
  outputRoots: readonly string[];
  /** How long a decision waits for a root that a job or another decision holds before it answers busy [10 s]. */
  decisionLockWaitMs?: number;
  /** 68-point landmarks for the formats [the engine's landmark model from modelDir, loaded on first use]. */
  landmarks68?: FormatDeps['landmarks68'];
  /** Where the models are [MODEL_DIR's default, <repo>/models]. */
  modelDir?: string;
}

/** Decisions wait this long for their output root's turn by default. */
export const DECISION_LOCK_WAIT_MS = 10_000;

export type DecisionInput =
  | { kind: 'reject' | 'assign' | 'split'; faceIds: string[] }
  | { kind: 'merge'; from: string[] }
  | { kind: 'label'; label: string | null }
  | { kind: 'delete' }
  | { kind: 'undo' };

export interface DecisionContext {
  /** "local" or "token:<hash prefix>". */
  actor: string;
  /** If-Match: the version the caller saw. */
  ifMatch?: number;
}

export class IdentityNotFoundError extends Error {
  constructor(id: string) {
    super(`identity ${id} does not exist`);
    this.name = 'IdentityNotFoundError';
  }
}

/** If-Match mismatch, a decision on a retired identity, nothing to undo: the caller must look again (409). */
export class IdentityConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityConflictError';
  }
}

/** The output root is gone, or no longer under OUTPUT_ROOTS: nothing is written to it (409). */
export class OutputRootUnavailableError extends Error {
  constructor(
    readonly outputRoot: string,
    why: string,
  ) {
    super(`output root ${outputRoot} ${why}: nothing was written`);
    this.name = 'OutputRootUnavailableError';
  }
}

/**
 * The decision is recorded but its folders could not be (all) written: the error names the file. The identities
 * stay marked disk_pending, and the next sync of the root (every job and decision starts with one) finishes them.
 */
export class OutputRootWriteError extends Error {
  constructor(
    readonly outputRoot: string,
    readonly file: string,
    readonly decisionId: string | null,
    cause: unknown,
  ) {
    const what = decisionId ? `decision ${decisionId} is recorded, but ` : 'the folders could not be repaired: ';
    super(`${what}${file} could not be written (${(cause as Error).message}); it is finished by the next sync or decision of ${outputRoot}`, { cause });
    this.name = 'OutputRootWriteError';
  }
}

/** A request that names things wrongly (bad face ids, merging with itself or across roots): 400. */
export class IdentityRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityRequestError';
  }
}

/** One identity as coverage sees it: centroid of its members' embeddings (this model pack), what it must never take. */
export interface CoverageIdentity {
  record: IdentityRecord;
  members: MemberRecord[];
  centroid: Float32Array | null;
  /** faceKey (sha256:faceIndex) of faces rejected from it. */
  rejected: Set<string>;
  /** Members without a face record of this model pack, plus foreign members. */
  unmatched: number;
}

export interface CoverageState {
  identities: CoverageIdentity[];
  /** sha256:faceIndex → index into identities, for faces that are members of an active identity. */
  memberOf: Map<string, number>;
  /** sha256:faceIndex of faces that a person took out of discovery: members of retired identities, rejected faces. */
  held: Set<string>;
  /** Every name the root ever used (retired included): numbering continues after them. */
  names: string[];
}

const faceKey2 = (k: { sha256: string; faceIndex: number }): string => `${k.sha256}:${k.faceIndex}`;
const round4 = (v: number): number => Number(v.toFixed(4));

/**
 * Upper end of the merge-suggestion band (centroid distance). Measured on the fixtures' 13 people: centroids of two
 * halves of one person's photos are 0.08–0.28 apart, of two different people 0.745 at the closest (5 % quantile
 * 0.81). Identities of one person that routing (0.45) kept apart land above that threshold; 0.62 covers the band
 * past the clustering threshold (0.55) and stays ~0.12 below the nearest strangers (README, Suggestions).
 */
export const SUGGEST_UPPER = 0.62;
const UNCERTAIN_FAR = 12;
/** Thumbnails come from PNG crops of this side when no identity holds the face. */
const THUMB_CROP = 256;
/** Thumbnails served, by (face, size, format): about 4 kB each. */
const thumbCache = new LRUCache<string, Buffer>({ max: 4000 });

/** A face id that no face record has (any more). */
export class FaceNotFoundError extends Error {
  constructor(faceId: string, why = 'no face record has it') {
    super(`face ${faceId} cannot be shown: ${why}`);
    this.name = 'FaceNotFoundError';
  }
}

/** The list entry of an identity. */
export function summaryOf(i: IdentityRecord, members: number): IdentitySummary {
  return {
    id: i.id,
    outputRoot: i.outputRoot,
    name: i.name,
    label: i.label,
    path: i.path,
    count: members + i.foreignMembers.length,
    thin: i.thin,
    state: i.state,
    version: i.version,
    mergedInto: i.mergedInto,
    parentId: i.parentId,
    era: i.era,
    contactSheet: i.state === 'active' && members > 0 ? contactSheetPath(i.name) : null,
    updatedAt: i.updatedAt.toISOString(),
  };
}

function numberParam(header: Record<string, unknown>, name: string, fallback: number): number {
  const v = (header.params as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'number' ? v : fallback;
}

/**
 * Per-process memory of folders sync found in step with their records: the folder's and its faceset.json's mtime
 * and size. A folder whose entries or faceset.json changed since (a hand edit included) is read again.
 */
const checkedFolders = new Map<string, string>();

async function folderStamp(dir: string): Promise<string | null> {
  const [d, f] = await Promise.all([lstat(dir).catch(() => null), lstat(join(dir, FACESET_FILE)).catch(() => null)]);
  return d ? `${d.mtimeMs}:${f?.mtimeMs ?? 0}:${f?.size ?? -1}:${f?.ino ?? 0}` : null;
}

/** The file a failed write names (an fs error's path, or the target writeFileAtomic names), else the root. */
function failedFile(err: unknown, root: string): string {
  for (let e = err as { path?: unknown; cause?: unknown; message?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.path === 'string') return e.path;
  }
  return root;
}

export class IdentityService {
  readonly identities: IdentitiesRepository;
  readonly decisions: DecisionsRepository;
  private readonly sources: SourcesRepository;
  private readonly faces: Pick<FacesRepository, 'facesOfSources'>;
  /** Which members each folder exports (issue 15): applied on every re-materialisation. */
  private readonly curate: CurateDraft;
  /** The formats of each root (_formats/), kept equal to the records after every write. */
  readonly formats: RootFormatsKeeper;

  constructor(private readonly deps: IdentityServiceDeps) {
    this.identities = new IdentitiesRepository(deps.db);
    this.decisions = new DecisionsRepository(deps.db);
    this.sources = new SourcesRepository(deps.db);
    this.faces = deps.faces ?? new FacesRepository(deps.db);
    this.curate = curationFor(this.faces, new FacesRepository(deps.db));
    this.formats = new RootFormatsKeeper({
      db: deps.db, identities: this.identities, sources: this.sources, bucketRoots: deps.bucketRoots, decodeImage: deps.decodeImage,
      landmarks68: deps.landmarks68 ?? landmarks68Provider(deps.modelDir ?? join(REPO_ROOT, 'models')),
    });
  }

  /**
   * After a job's writes (under its lock) or a decision's folders: formats a job names are enabled on the root, then
   * every enabled format is rebuilt from the records (a decision's: only the sets it touched). A failure is logged, not thrown: the sets are written, and the next job or
   * decision on the root rebuilds the formats again.
   */
  async refreshFormats(root: string, log: Logger, params?: Partial<JobParams>, touched?: ReadonlySet<string>): Promise<void> {
    try {
      if (params) await this.formats.enableFromJob(root, params);
      await this.formats.refresh(root, log, undefined, touched);
    } catch (err) {
      if (err instanceof OutputRootRefusedError) throw err;
      log.error({ err, outputRoot: root }, 'formats could not be written; the next job or decision on the root rewrites them');
    }
  }

  // ---- output roots ------------------------------------------------------------------------------------------

  /** Adopts the root's unknown folders and records hand-deleted PNGs, under the output-root lock (bounded wait). */
  async sync(root: string): Promise<SyncResult> {
    return this.deps.lock.withLock(root, () => this.syncLocked(root), { waitMs: this.lockWaitMs });
  }

  /**
   * PUT /output-roots/formats: under the root's lock (bounded wait), after a sync, the root keeps exactly `formats`
   * (settings merged into what it had); what was enabled is written, what was disabled removed.
   */
  async configureFormats(root: string, formats: readonly FormatName[], params: Partial<FormatParams> | undefined): Promise<{ formats: FormatName[]; params: FormatParams; written: FormatName[]; removed: FormatName[] }> {
    return this.deps.lock.withLock(root, async () => {
      await this.syncLocked(root);
      const { stored, result } = await this.formats.configure(root, formats, params, this.deps.log.child({ outputRoot: root }));
      return { ...stored, written: result.written, removed: result.removed };
    }, { waitMs: this.lockWaitMs });
  }

  /** Files of the identity's archive in `format`: [absolute path, name inside the zip]; null when it has none. */
  async archiveFiles(id: string, format: ArchiveFormat): Promise<{ name: string; files: [string, string][] } | null> {
    const identity = await this.identities.get(id);
    if (!identity) throw new IdentityNotFoundError(id);
    if (identity.state !== 'active') return null;
    const root = identity.outputRoot;
    // Only from a root still under OUTPUT_ROOTS and still a folder of its own (409 otherwise).
    await this.checkRoot(root);
    if (format === 'facesets') {
      if ((await realDirState(root, identity.path)) !== 'dir') return null;
      const dir = join(root, identity.path);
      const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
      return { name: identity.name, files: names.map((n) => [join(dir, n), `${identity.name}/${n}`]) };
    }
    const rel = await formatSetFiles(root, format, identity.name);
    if (!rel.length) return null;
    return { name: identity.name, files: rel.map((r) => [join(root, FORMATS_DIR, format, r), r]) };
  }

  private materialiseDeps(log: Logger) {
    return {
      decodeImage: this.deps.decodeImage, log, bucketRoots: this.deps.bucketRoots,
      sourcesOf: (sha256s: readonly string[]) => this.sources.aliasPathsOf(sha256s),
    };
  }

  /** Real paths of OUTPUT_ROOTS (those that exist). */
  private async allowedRoots(): Promise<string[]> {
    return (await Promise.all(this.deps.outputRoots.map((r) => realpath(r).catch(() => null)))).filter((r): r is string => r !== null);
  }

  private get lockWaitMs(): number {
    return this.deps.decisionLockWaitMs ?? DECISION_LOCK_WAIT_MS;
  }

  /**
   * Why `root` (a real path) cannot be an output root beside the ones the service knows, or null: it lies inside or
   * around one of them, or inside `bucket` (a bucket is never written). The API asks before it accepts a root.
   */
  async rootConflict(root: string, bucket?: string): Promise<string | null> {
    if (bucket && isInside(bucket, root)) return `lies inside the bucket ${bucket}: a bucket is never written`;
    const nest = overlappingRoot(root, await this.identities.knownRoots());
    return nest ? `lies inside or around ${nest}, an output root in use (nested roots would adopt and rewrite each other's sets)` : null;
  }

  /**
   * Before anything is read or written: the root is still under OUTPUT_ROOTS and still a folder (not a link), it lies
   * neither inside nor around another root the service knows, and its own folders (_thin, _reports) are no links.
   */
  async checkRoot(root: string): Promise<void> {
    if (!(await this.allowedRoots()).some((r) => isInside(r, root))) throw new OutputRootUnavailableError(root, 'is no longer under OUTPUT_ROOTS');
    const info = await lstat(root).catch(() => null);
    if (!info) throw new OutputRootUnavailableError(root, 'does not exist any more');
    if (!info.isDirectory() || (await realpath(root)) !== root) throw new OutputRootUnavailableError(root, 'is no longer a folder of its own (a file or a symlink now)');
    // Against the adopted roots: every sync and decision passes here, and a job's root was checked against the roots
    // jobs name when it was asked for (rootConflict); reading the jobs table each time would grow with it.
    const nest = overlappingRoot(root, await this.identities.adoptedRoots());
    if (nest) throw new OutputRootRefusedError(root, 'the folder', `lies inside or around ${nest}, an output root in use: refused (it would adopt and rewrite that root's sets)`);
    for (const rel of [THIN_DIR, REPORTS_DIR, IDENTITY_SHEETS_DIR]) await realDirState(root, rel);
  }

  /** Under the lock, for a restarted job: forgets the identities its interrupted run recorded (see the repository). */
  forgetUnfinishedJobSets(root: string, jobId: string): Promise<string[]> {
    return this.identities.forgetUnfinishedJobSets(root, jobId);
  }

  /**
   * The same for a caller that holds the lock (a job). Folders without an identity become identities (members
   * matched to face records by sha256 and box; unmatched ones kept verbatim); a PNG that the folder's faceset.json
   * lists but that is gone from the folder becomes a rejection; folders that disagree with their records are
   * re-materialised (what an interrupted change left).
   */
  async syncLocked(root: string, only?: readonly string[]): Promise<SyncResult> {
    const log = this.deps.log.child({ outputRoot: root });
    await this.checkRoot(root);
    await this.identities.ensureRoot(root);
    // What an interrupted change left at the top (a folder being built or taken away) goes first.
    const stale = await removeStaleTemps([root, join(root, THIN_DIR)]);
    if (stale.length) log.warn({ removed: stale }, 'removed temp entries an interrupted change left');
    const pending = new Set(await this.identities.diskPendingOf(root));
    // A decision looks only at the identities it touches (and unfinished ones): it costs what it touches. A full
    // sync (jobs, lists, POST /output-roots/sync) reads every folder and adopts unknown ones.
    const known = only ? await this.identities.getMany([...new Set([...only, ...pending])]) : await this.identities.byRoot(root);
    const byName = new Map(known.map((i) => [i.name, i]));
    const { folders, refused } = only ? await foldersNamed(root, known.map((i) => i.name)) : await facesetFolders(root);
    const result: SyncResult = { outputRoot: root, adopted: [], rejected: [], missingFolders: [], refused: refused.map(({ name, reason }) => ({ name, reason })) };
    if (refused.length) log.warn({ refused: result.refused }, 'face set folders refused');
    const refusedNames = new Set(refused.map((r) => r.name));
    const folderOf = new Map(folders.map((f) => [f.name, f]));
    const changed: IdentityDraft[] = [];

    const unknown = folders.filter((f) => !byName.has(f.name));
    if (unknown.length) {
      for (const adopted of await this.adopt(root, unknown)) {
        byName.set(adopted.name, adopted);
        result.adopted.push(adopted.name);
      }
      log.info({ adopted: result.adopted.length }, 'adopted face set folders');
    }

    // Only folders whose entries changed since this process last saw them in step with their records are read.
    const repair: IdentityRecord[] = [];
    const look: { identity: IdentityRecord; dir: string | null; stamp: string | null }[] = [];
    for (const identity of byName.values()) {
      // A folder that is a symlink is never written through: the identity waits until a person replaces it.
      if (refusedNames.has(identity.name)) continue;
      const folder = folderOf.get(identity.name);
      if (identity.state !== 'active') {
        if (folder || pending.has(identity.id)) repair.push(identity);
        continue;
      }
      if (!folder) {
        look.push({ identity, dir: null, stamp: null });
        continue;
      }
      const dir = join(root, folder.path);
      const stamp = await folderStamp(dir);
      if (pending.has(identity.id) || checkedFolders.get(dir) !== stamp || folder.path !== identity.path) look.push({ identity, dir, stamp });
    }
    const pngs = look.length ? await this.identities.memberFilesOf(look.map((l) => l.identity.id)) : new Map<string, Set<string>>();
    for (const { identity, dir, stamp } of look) {
      const members = pngs.get(identity.id) ?? new Set<string>();
      if (!dir) {
        if (members.size || pending.has(identity.id)) {
          if (members.size) result.missingFolders.push(identity.name);
          repair.push(identity);
        }
        continue;
      }
      const listed = await listedPngs(dir);
      const entries = await readdir(dir, { withFileTypes: true });
      const named = new Set(entries.map((e) => e.name));
      // Only regular files count as present: a member file swapped for a link (or a folder) is rewritten.
      const files = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
      const gone = [...members].filter((p) => listed.has(p) && !named.has(p));
      if (gone.length) {
        const decided = await this.rejectHandDeleted(root, identity, new Set(gone));
        result.rejected.push(decided.entry);
        changed.push(decided.draft);
        continue;
      }
      const same = listed.size === members.size && [...members].every((p) => listed.has(p) && files.has(p));
      if (!same || pending.has(identity.id) || !dir.endsWith(identity.path)) repair.push(identity);
      else if (stamp) checkedFolders.set(dir, stamp);
    }
    if (repair.length) changed.push(...(await this.drafts(repair.map((r) => r.id))));
    if (changed.length) {
      await this.writeOutOrFail(root, null, changed, new Map(), log, {
        jobId: 'sync',
        added: [],
        extended: changed.filter((d) => d.identity.state === 'active').map((d) => d.identity.name),
        removed: changed.filter((d) => d.identity.state !== 'active').map((d) => d.identity.name),
      });
    }
    // Adoption alone leaves the manifest as it is: an adopted set gets its entry the first time it changes.
    return result;
  }

  /**
   * Folders into identities, in one read of face records and one transaction: members matched by sha256 and box
   * (a face already held by another identity of the root, or matched twice, stays a foreign member, verbatim).
   */
  private async adopt(root: string, folders: readonly { name: string; path: string }[]): Promise<IdentityRecord[]> {
    const read = await Promise.all(
      folders.map(async (f) => {
        try {
          // Untrusted: read without following a link, and made storable (no NUL or lone surrogates reach jsonb); the
          // label is judged as written, before that (a label with NUL is dropped, not mended).
          const raw = JSON.parse((await readFileNoFollow(join(root, f.path, FACESET_FILE))).toString('utf8')) as unknown;
          if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
          const { label, ...rest } = raw as Record<string, unknown>;
          const json: Record<string, unknown> = { ...(jsonbSafe(rest) as Record<string, unknown>), label: labelFromFile(label) };
          return json;
        } catch {
          return null; // no or unreadable faceset.json: an identity without members; its PNGs are left alone
        }
      }),
    );
    const usable = read.map((json) => {
      const raw = Array.isArray(json?.members) ? (json!.members as unknown[]) : [];
      const out: { i: number; sha256: string; box: [number, number, number, number] }[] = [];
      raw.forEach((m, i) => {
        const { sha256, box, png } = (m ?? {}) as { sha256?: unknown; box?: unknown; png?: unknown };
        // A member file name is a plain base name, or the member stays foreign (kept verbatim, never used as a path).
        if (PNG_SET_WRITER.isMember(png) && typeof sha256 === 'string' && /^[0-9a-f]{64}$/i.test(sha256) && Array.isArray(box) && box.length === 4 && box.every((v) => typeof v === 'number')) {
          out.push({ i, sha256: sha256.toLowerCase(), box: box as [number, number, number, number] });
        }
      });
      return { raw, out };
    });
    const candidates = await this.faces.facesOfSources(usable.flatMap((u) => u.out.map((m) => m.sha256)), this.deps.modelPack);
    const bySha = new Map<string, FaceRecord[]>();
    for (const c of candidates) (bySha.get(c.sha256) ?? bySha.set(c.sha256, []).get(c.sha256)!).push(c);
    const matched = usable.map((u) => matchMembers(u.out, [...new Set(u.out.map((m) => m.sha256))].flatMap((s) => bySha.get(s) ?? [])));
    const taken = await this.identities.holders(root, matched.flat().flatMap((f) => (f ? [{ sha256: f.sha256, faceIndex: f.faceIndex, modelPack: this.deps.modelPack }] : [])));
    const seen = new Set<string>();
    const plans = folders.map((f, k) => {
      const json = read[k] ?? {};
      const { members: _m, label, ...header } = json;
      const members: MemberRecord[] = [];
      const keyed = new Set<number>();
      const vs: Float32Array[] = [];
      usable[k]!.out.forEach((u, j) => {
        const face = matched[k]![j];
        if (!face) return;
        const key = faceKeyOf({ sha256: face.sha256, faceIndex: face.faceIndex, modelPack: this.deps.modelPack });
        if (seen.has(key) || taken.has(key)) return;
        seen.add(key);
        keyed.add(u.i);
        vs.push(face.embedding);
        // The matched face record's keypoints replace the file's: crops are made from what the engine found.
        const entry: Record<string, unknown> = { ...(usable[k]!.raw[u.i] as Record<string, unknown>), kps: face.kps.map(([x, y]) => [x, y]) };
        members.push({ sha256: face.sha256, faceIndex: face.faceIndex, modelPack: this.deps.modelPack, origin: header.jobId ? 'discovered' : 'imported', file: entry.png as string, entry });
      });
      const foreign = usable[k]!.raw.filter((_, i) => !keyed.has(i));
      return { f, header, label, members, foreign, centroid: vs.length ? centroid(vs) : null };
    });
    return inTransaction(this.deps.db, async (client) => {
      // Another process may have adopted some meanwhile: those are skipped.
      const { rows } = await client.query<{ name: string }>('SELECT name FROM identities WHERE output_root = $1 AND name = ANY($2::text[])', [root, folders.map((f) => f.name)]);
      const exists = new Set(rows.map((r) => r.name));
      const out: IdentityRecord[] = [];
      const lists: { identityId: string; members: MemberRecord[] }[] = [];
      for (const p of plans) {
        if (exists.has(p.f.name)) continue;
        const identity = await this.identities.insert(client, {
          outputRoot: root,
          name: p.f.name,
          number: facesetNumber(p.f.name)!,
          path: p.f.path,
          thin: p.f.path.startsWith(`${THIN_DIR}/`),
          header: p.header,
          foreignMembers: p.foreign,
          label: typeof p.label === 'string' ? p.label : null,
          ...(p.centroid ? { centroid: p.centroid, centroidModelPack: this.deps.modelPack } : {}),
        });
        lists.push({ identityId: identity.id, members: p.members });
        out.push(identity);
      }
      await this.identities.addMembersOfNew(client, root, lists);
      return out;
    });
  }

  /** PNGs deleted by hand are rejections; a person at the disk made them, so the actor is `local`, never a caller. */
  private async rejectHandDeleted(root: string, identity: IdentityRecord, gone: Set<string>) {
    const [draft] = await this.drafts([identity.id]);
    const keys = draft!.members.filter((m) => gone.has(m.file));
    const before = [snapshot(draft!)];
    rejectFaces(draft!, keys, encodeFaceId);
    await this.place(draft!);
    const faceIds = keys.map(encodeFaceId);
    const decisionId = await inTransaction(this.deps.db, async (client) => {
      const id = await this.decisions.insert(client, {
        outputRoot: root, identityId: identity.id, kind: 'reject', faceIds, identityIds: [identity.id],
        detail: { source: 'disk', pngs: [...gone].sort() }, before, actor: 'local',
      });
      await this.store(client, [draft!], id);
      await this.identities.markDiskPending(client, [identity.id]);
      return id;
    });
    this.deps.log.info({ identity: identity.name, pngs: [...gone] }, 'hand-deleted PNGs recorded as rejections');
    return { draft: draft!, entry: { identityId: identity.id, name: identity.name, faceIds, decisionId } };
  }

  // ---- what jobs read and add --------------------------------------------------------------------------------

  /**
   * Active identities with centroids (this model pack: the stored one, or computed from face records when the
   * stored one is of another pack), the faces people took out, every name used.
   */
  async coverageState(root: string, modelPack: string): Promise<CoverageState> {
    const all = await this.identities.byRoot(root, { centroids: true });
    const members = await this.identities.membersOfRoot(root);
    const rejections = await this.identities.rejectionsOfRoot(root);
    const active = all.filter((i) => i.state === 'active');
    const recompute = active.filter((i) => i.centroidModelPack !== modelPack);
    const shas = new Set<string>();
    for (const i of recompute) for (const m of members.get(i.id) ?? []) if (m.modelPack === modelPack) shas.add(m.sha256);
    const records = shas.size ? indexFaces(await this.faces.facesOfSources(shas, modelPack)) : new Map<string, FaceRecord>();
    const held = new Set<string>();
    for (const i of all) if (i.state !== 'active') for (const m of members.get(i.id) ?? []) if (m.modelPack === modelPack) held.add(faceKey2(m));
    for (const r of rejections) if (r.modelPack === modelPack) held.add(faceKey2(r));
    const memberOf = new Map<string, number>();
    const identities = active.map((record, idx): CoverageIdentity => {
      const list = members.get(record.id) ?? [];
      let unmatched = record.foreignMembers.length;
      const stored = record.centroidModelPack === modelPack;
      const vs: Float32Array[] = [];
      for (const m of list) {
        if (m.modelPack !== modelPack) {
          unmatched++;
          continue;
        }
        memberOf.set(faceKey2(m), idx);
        if (stored) continue;
        const f = records.get(faceKey2(m));
        if (f) vs.push(f.embedding);
        else unmatched++;
      }
      const c = stored ? record.centroid : vs.length ? centroid(vs) : null;
      const rejected = new Set(rejections.filter((r) => r.identityId === record.id && r.modelPack === modelPack).map(faceKey2));
      return { record, members: list, centroid: c, rejected, unmatched };
    });
    for (const k of memberOf.keys()) held.delete(k);
    return { identities, memberOf, held, names: all.map((i) => i.name) };
  }

  /**
   * Records the sets a job wrote (the folders are in place already), origin `discovered` unless told otherwise. A
   * header's `label` becomes the identity's label; an era's `parent` (a name, recorded before it) and `era` fill
   * parent_id and era.
   */
  async recordNewSets(root: string, sets: readonly WrittenSet[], modelPack: string, origin: FaceOrigin = 'discovered'): Promise<IdentityRecord[]> {
    if (!sets.length) return [];
    return inTransaction(this.deps.db, async (client) => {
      const byName = new Map((await this.identities.byRoot(root, {}, client)).map((i) => [i.name, i]));
      const out: IdentityRecord[] = [];
      for (const s of sets) {
        const { label, parent, era } = s.header as { label?: unknown; parent?: unknown; era?: unknown };
        const parentId = typeof parent === 'string' ? (byName.get(parent)?.id ?? null) : null;
        const identity = await this.identities.insert(client, {
          outputRoot: root, name: s.name, number: facesetNumber(s.name)!, path: s.path, thin: s.thin, header: s.header,
          ...(typeof label === 'string' && label ? { label } : {}),
          ...(parentId ? { parentId, era: era as Era } : {}),
          ...(s.centroid ? { centroid: s.centroid, centroidModelPack: modelPack } : {}),
        });
        byName.set(identity.name, identity);
        out.push(identity);
        await this.identities.addMembers(
          client, identity.id, root,
          s.members.map((m) => ({ sha256: m.sha256, faceIndex: m.faceIndex, modelPack, origin, file: m.entry.png as string, entry: m.entry })),
        );
      }
      return out;
    });
  }

  /**
   * Curation of sets a job just wrote and recorded (call under the output-root lock): each folder re-materialised
   * from its records, so it exports one face per shot and at most maxFaces; by name, what each holds now.
   */
  async curateNewSets(root: string, identities: readonly IdentityRecord[]): Promise<Map<string, MaterialiseResult & { path: string; thin: boolean }>> {
    const out = new Map<string, MaterialiseResult & { path: string; thin: boolean }>();
    for (const draft of await this.drafts(identities.map((i) => i.id))) {
      const was = draft.identity.path;
      // Fewer PNGs than thinBelow after curation: the folder moves under _thin/.
      await this.place(draft);
      if (draft.identity.path !== was) {
        await inTransaction(this.deps.db, (client) => this.identities.update(client, draft.identity.id, { path: draft.identity.path, thin: draft.identity.thin }));
      }
      const done = await materialiseIdentity(root, draft, { ...this.deps, curate: this.curate });
      out.set(draft.identity.name, { ...done, path: draft.identity.path, thin: draft.identity.thin });
    }
    return out;
  }

  /**
   * Extend: the faces join the identity (origin `routed`) and its folder is re-materialised (new crops from their
   * sources, faceset.json rewritten). Returns the members the folder holds now and how many joined.
   */
  async extend(
    root: string,
    identityId: string,
    faces: readonly (StoredFace & { paths: string[]; distance: number })[],
    modelPack: string,
    opts: { origin?: FaceOrigin; label?: string } = {},
  ): Promise<{ count: number; total: number }> {
    const [draft] = await this.drafts([identityId]);
    // An import names an identity that has no label yet (a person's label is never replaced).
    const label = opts.label && draft && !draft.identity.label ? opts.label : null;
    if (!draft || draft.identity.state !== 'active' || (!faces.length && !label)) return { count: 0, total: draft?.members.length ?? 0 };
    const fresh: MemberRecord[] = faces.map((f) => {
      const png = cropFileName(f);
      return { sha256: f.sha256, faceIndex: f.faceIndex, modelPack, origin: opts.origin ?? 'routed', file: png, entry: facesetMember({ ...f, png }) as unknown as Record<string, unknown> };
    });
    draft.members.push(...fresh);
    if (label) draft.identity = { ...draft.identity, label };
    await this.place(draft);
    const embeddings = await this.embeddingsOf(draft.members);
    const vs = draft.members.map((m) => embeddings.get(faceKeyOf(m))).filter((v): v is Float32Array => v !== undefined);
    await inTransaction(this.deps.db, async (client) => {
      await this.identities.addMembers(client, identityId, root, fresh);
      await this.identities.update(client, identityId, {
        path: draft.identity.path, thin: draft.identity.thin,
        ...(label ? { label } : {}),
        ...(vs.length ? { centroid: centroid(vs), centroidModelPack: modelPack } : {}),
      });
    });
    const out = await materialiseIdentity(root, draft, { ...this.materialiseDeps(this.deps.log), curate: this.curate });
    if (out.failed.length) {
      // Crops that could not be made are no members: the folder and the records must agree.
      const failed = new Set(out.failed);
      draft.members = draft.members.filter((m) => !failed.has(m.file));
      await inTransaction(this.deps.db, (client) => this.store(client, [draft]));
    }
    const added = fresh.length - out.failed.length;
    return { count: added, total: out.count };
  }

  // ---- decisions ---------------------------------------------------------------------------------------------

  /** Applies one decision: records it, rewrites the affected folders, faceset.json files and manifest, publishes. */
  async decide(id: string, input: DecisionInput, ctx: DecisionContext): Promise<{ identity: IdentityRecord; created: IdentityRecord | null; decisionId: string }> {
    if (input.kind === 'label' && input.label) {
      const why = labelProblem(input.label);
      if (why) throw new IdentityRequestError(`body/label ${why}`);
    }
    const first = await this.identities.get(id);
    if (!first) throw new IdentityNotFoundError(id);
    // A caller that saw an older version learns it at once, without waiting for the root's turn (checked again there).
    if (ctx.ifMatch !== undefined && ctx.ifMatch !== first.version) {
      throw new IdentityConflictError(`identity ${first.name} is at version ${first.version}, not ${ctx.ifMatch} (If-Match): reload it`);
    }
    const root = first.outputRoot;
    return this.deps.lock.withLock(root, async () => {
      await this.syncLocked(root, await this.touches(root, id, input));
      const target = await this.identities.get(id);
      if (!target) throw new IdentityNotFoundError(id);
      if (ctx.ifMatch !== undefined && ctx.ifMatch !== target.version) {
        throw new IdentityConflictError(`identity ${target.name} is at version ${target.version}, not ${ctx.ifMatch} (If-Match): reload it`);
      }
      if (input.kind === 'undo') return this.undoLocked(root, target, ctx);
      if (target.state !== 'active') throw new IdentityConflictError(`identity ${target.name} is ${target.state}: only undo applies to it`);
      return this.applyLocked(root, target, input, ctx);
    }, { waitMs: this.lockWaitMs });
  }

  /** The identities a decision will read and write (sync looks at these first). */
  private async touches(root: string, id: string, input: DecisionInput): Promise<string[]> {
    if (input.kind === 'merge') return [id, ...input.from];
    if (input.kind === 'assign') return [id, ...new Set((await this.identities.holders(root, parseFaceIds(input.faceIds))).values())];
    if (input.kind === 'undo') return [id, ...((await this.decisions.lastUndoable(id))?.before.map((b) => b.id) ?? [])];
    return [id];
  }

  private async applyLocked(root: string, target: IdentityRecord, input: Exclude<DecisionInput, { kind: 'undo' }>, ctx: DecisionContext) {
    const log = this.deps.log.child({ outputRoot: root, identity: target.name, decision: input.kind });
    const keys = 'faceIds' in input ? parseFaceIds(input.faceIds) : [];
    let involved = [target.id];
    const holders = input.kind === 'assign' ? await this.identities.holders(root, keys) : new Map<string, string>();
    if (input.kind === 'merge') {
      if (input.from.includes(target.id)) throw new IdentityRequestError('body/from must not name the identity itself');
      const others = await this.identities.getMany(input.from);
      const missing = input.from.filter((o) => !others.some((x) => x.id === o));
      if (missing.length) throw new IdentityRequestError(`body/from names identities that do not exist: ${missing.join(', ')}`);
      const elsewhere = others.filter((o) => o.outputRoot !== root);
      if (elsewhere.length) throw new IdentityRequestError(`body/from names identities of another output root: ${elsewhere.map((o) => o.id).join(', ')}`);
      const retired = others.filter((o) => o.state !== 'active');
      if (retired.length) throw new IdentityConflictError(`cannot merge identities that are ${retired.map((o) => `${o.name} (${o.state})`).join(', ')}`);
      involved = [target.id, ...input.from];
    }
    // A face the target holds already (one curation leaves out) is assigned in place: each identity once.
    if (input.kind === 'assign') involved = [...new Set([target.id, ...holders.values()])];
    const drafts = await this.drafts(involved);
    const byId = new Map(drafts.map((d) => [d.identity.id, d]));
    const main = byId.get(target.id)!;
    const before = drafts.map((d) => snapshot(d));
    const pngSources: PngSources = new Map();
    for (const d of drafts) for (const m of d.members) pngSources.set(faceKeyOf(m), { folder: d.identity.name, png: m.file });
    let created: IdentityDraft | null = null;
    const detail: Record<string, unknown> = {};

    switch (input.kind) {
      case 'reject':
        rejectFaces(main, keys, encodeFaceId);
        break;
      case 'split': {
        const onDisk = await facesetFolders(root);
        const number = Math.max(await this.identities.maxNumber(root), ...[...onDisk.folders, ...onDisk.refused].map((f) => facesetNumber(f.name) ?? 0), ...manifestNumbers(await readManifest(root))) + 1;
        const name = facesetName(number);
        const { name: _n, ...header } = main.identity.header;
        created = { identity: { ...main.identity, id: '', name, number, label: null, state: 'active', mergedInto: null, header: { name, ...header, splitFrom: main.identity.name }, foreignMembers: [], version: 1 }, members: [], rejections: [] };
        splitOff(main, created, keys, encodeFaceId);
        if (!main.members.length && !main.identity.foreignMembers.length) {
          throw new IdentityRequestError(`body/faceIds names every face of ${main.identity.name}: a split must leave at least one face (to rename the identity, label it)`);
        }
        detail.created = name;
        break;
      }
      case 'assign': {
        const unheld = keys.filter((k) => !holders.has(faceKeyOf(k)));
        const fresh = await this.membersFromRecords(unheld);
        const moves = keys.map((k) => {
          const holder = holders.get(faceKeyOf(k));
          if (holder) {
            const from = byId.get(holder)!;
            return { member: from.members.find((m) => faceKeyOf(m) === faceKeyOf(k))!, from };
          }
          return { member: fresh.get(faceKeyOf(k))!, from: null };
        });
        detail.from = [...new Set(moves.map((m) => m.from?.identity.name ?? null))];
        assignFaces(main, moves);
        break;
      }
      case 'merge':
        mergeInto(main, input.from.map((o) => byId.get(o)!));
        detail.merged = input.from.map((o) => byId.get(o)!.identity.name);
        break;
      case 'label': {
        const label = input.label?.trim() || null;
        detail.from = main.identity.label;
        detail.to = label;
        main.identity = { ...main.identity, label };
        break;
      }
      case 'delete':
        main.identity = { ...main.identity, state: 'deleted' };
        break;
    }
    const all = created ? [...drafts, created] : drafts;
    await this.refreshDistances(all);
    for (const d of all) await this.place(d);
    // A folder that is a symlink is refused before anything is recorded.
    for (const d of all) await findFolder(root, d.identity.name);

    const decisionId = await inTransaction(this.deps.db, async (client) => {
      await this.identities.lockMany(client, involved);
      if (created) {
        const row = await this.identities.insert(client, { outputRoot: root, name: created.identity.name, number: created.identity.number, path: created.identity.path, thin: created.identity.thin, header: created.identity.header });
        created.identity = { ...row };
        before.push({ ...snapshot(created), existed: false, members: [], rejections: [] });
      }
      const ids = all.map((d) => d.identity.id);
      const decision = await this.decisions.insert(client, {
        outputRoot: root, identityId: target.id, kind: input.kind, faceIds: keys.map(encodeFaceId), identityIds: ids.filter((x) => x !== target.id), detail, before, actor: ctx.actor,
      });
      const versions = await this.store(client, all, decision);
      await this.decisions.setAfterVersions(client, decision, versions);
      await this.identities.markDiskPending(client, all.map((d) => d.identity.id));
      return decision;
    });
    log.info({ decisionId, faces: keys.length, identities: all.map((d) => d.identity.name) }, 'decision recorded');
    await this.writeOutOrFail(root, decisionId, all, pngSources, log, eventOf(decisionId, all, created));
    const fresh = await this.identities.get(target.id);
    return { identity: fresh!, created: created ? await this.identities.get(created.identity.id) : null, decisionId };
  }

  private async undoLocked(root: string, target: IdentityRecord, ctx: DecisionContext) {
    const log = this.deps.log.child({ outputRoot: root, identity: target.name, decision: 'undo' });
    const last = await this.decisions.lastUndoable(target.id);
    if (!last) throw new IdentityConflictError(`identity ${target.name} has no decision to undo`);
    const ids = last.before.map((s) => s.id);
    const drafts = await this.drafts(ids);
    for (const d of drafts) {
      const want = last.afterVersions[d.identity.id];
      if (want !== undefined && want !== d.identity.version) {
        throw new IdentityConflictError(`cannot undo decision ${last.id} (${last.kind}): identity ${d.identity.name} changed since (version ${d.identity.version}, was ${want})`);
      }
    }
    const byId = new Map(drafts.map((d) => [d.identity.id, d]));
    const pngSources: PngSources = new Map();
    for (const d of drafts) for (const m of d.members) pngSources.set(faceKeyOf(m), { folder: d.identity.name, png: m.file });
    const before = drafts.map((d) => snapshot(d));
    const restored = last.before.map((s): IdentityDraft => {
      const d = byId.get(s.id)!;
      // What the decision created is retired empty: its faces go back to where the snapshots had them.
      if (!s.existed) return { identity: { ...d.identity, state: 'deleted' }, members: [], rejections: [] };
      return { identity: { ...d.identity, ...s.row }, members: s.members, rejections: s.rejections };
    });
    await this.refreshDistances(restored);
    for (const d of restored) await findFolder(root, d.identity.name);
    const decisionId = await inTransaction(this.deps.db, async (client) => {
      await this.identities.lockMany(client, ids);
      const id = await this.decisions.insert(client, {
        outputRoot: root, identityId: target.id, kind: 'undo', faceIds: last.faceIds, identityIds: ids.filter((x) => x !== target.id),
        detail: { undid: last.id, kind: last.kind }, before, actor: ctx.actor,
      });
      const versions = await this.store(client, restored, id);
      await this.decisions.setAfterVersions(client, id, versions);
      await this.decisions.markUndone(client, last.id, id);
      await this.identities.markDiskPending(client, ids);
      return id;
    });
    log.info({ decisionId, undid: last.id, kind: last.kind }, 'decision undone');
    await this.writeOutOrFail(root, decisionId, restored, pngSources, log, eventOf(decisionId, restored, null));
    return { identity: (await this.identities.get(target.id))!, created: null, decisionId };
  }

  // ---- shared pieces -----------------------------------------------------------------------------------------

  /** The draft's folder placement (thin or not) by the PNGs curation exports of it. */
  private async place(d: IdentityDraft): Promise<void> {
    updatePlacement(d, thinBelowOf(d), d.identity.state === 'active' ? (await this.curate(d)).exported.size : undefined);
  }

  /** Identities with members and rejections, in the order asked. */
  async drafts(ids: readonly string[]): Promise<IdentityDraft[]> {
    const rows = await this.identities.getMany(ids);
    const members = await this.identities.members(ids);
    const rejections = await this.identities.rejectionsOf(ids);
    return ids.flatMap((id) => {
      const identity = rows.find((r) => r.id === id);
      if (!identity) return [];
      return [{ identity, members: members.get(id) ?? [], rejections: rejections.filter((r) => r.identityId === id).map(({ identityId: _i, ...k }) => k) }];
    });
  }

  /** Writes the drafts' rows, members and rejections; returns each identity's new version. */
  private async store(client: DbClient, drafts: readonly IdentityDraft[], decisionId: string | null = null): Promise<Record<string, number>> {
    const versions: Record<string, number> = {};
    await this.identities.clearMembers(client, drafts.map((d) => d.identity.id));
    for (const d of drafts) {
      const { label, path, thin, state, mergedInto, header, foreignMembers, centroid: c, centroidModelPack } = d.identity;
      const row = await this.identities.update(client, d.identity.id, { label, path, thin, state, mergedInto, header, foreignMembers, centroid: c, centroidModelPack });
      d.identity = row;
      versions[row.id] = row.version;
    }
    for (const d of drafts) {
      await this.identities.addMembers(client, d.identity.id, d.identity.outputRoot, d.members);
      await this.identities.setRejections(client, d.identity.id, d.identity.outputRoot, d.rejections, decisionId);
    }
    return versions;
  }

  /**
   * Folders, faceset.json files and contact sheets of the drafts, then their manifest entries, then the event. Two
   * passes: first every active folder gets its new PNGs (copied from the folders they leave) and faceset.json; only
   * then are PNGs that left removed and retired folders taken away, so no copy source is gone before it is copied.
   */
  private async writeOutOrFail(root: string, decisionId: string | null, drafts: readonly IdentityDraft[], pngSources: PngSources, log: Logger, event: Omit<ManifestEvent, 'outputRoot'>): Promise<void> {
    try {
      await this.writeOut(root, drafts, pngSources, log, event);
    } catch (err) {
      if (err instanceof OutputRootRefusedError) throw err;
      const file = failedFile(err, root);
      log.error({ err, file, decisionId }, 'folders could not be written; they stay marked pending');
      throw new OutputRootWriteError(root, file, decisionId, err);
    }
  }

  private async writeOut(root: string, drafts: readonly IdentityDraft[], pngSources: PngSources, log: Logger, event: Omit<ManifestEvent, 'outputRoot'>): Promise<void> {
    const deps = { ...this.materialiseDeps(log), curate: this.curate };
    const active = drafts.filter((d) => d.identity.state === 'active');
    const listed = new Map<string, Set<string>>();
    for (const d of drafts) {
      const folder = await findFolder(root, d.identity.name);
      listed.set(d.identity.id, folder ? await listedPngs(join(root, folder)) : new Set());
    }
    // A single identity copies from nowhere else: one pass is enough.
    if (active.length > 1) for (const d of active) await materialiseIdentity(root, d, deps, { pngSources, keepStale: true, sheet: 'later' });
    const counts = new Map<string, number>();
    for (const d of [...active, ...drafts.filter((d) => d.identity.state !== 'active')]) {
      const out = await materialiseIdentity(root, d, deps, { pngSources, listedBefore: listed.get(d.identity.id)!, sheet: 'later' });
      counts.set(d.identity.id, out.count);
      const dir = join(root, d.identity.path);
      const stamp = await folderStamp(dir);
      if (stamp) checkedFolders.set(dir, stamp);
    }
    await this.writeManifestFor(root, drafts.map((d) => d.identity), counts);
    await this.identities.clearDiskPending(drafts.map((d) => d.identity.id));
    // Formats follow the folders: only the sets this change touched (both sides of a merge or split) are rewritten.
    await this.refreshFormats(root, log, undefined, new Set(drafts.map((d) => d.identity.name)));
    await this.deps.publish({ outputRoot: root, ...event }).catch((err: unknown) => log.warn({ err }, 'manifest event could not be published'));
  }

  private async writeManifestFor(root: string, identities: readonly IdentityRecord[], counts?: Map<string, number>): Promise<void> {
    const manifest = await readManifest(root);
    const into = [...new Set(identities.flatMap((i) => (i.mergedInto ? [i.mergedInto] : [])))];
    const names = new Map((into.length ? await this.identities.getMany(into) : []).map((i) => [i.id, i.name]));
    const members = await this.identities.members(identities.map((i) => i.id));
    const states: IdentityManifestState[] = identities.map((identity) => ({
      identity,
      count: counts?.get(identity.id) ?? (members.get(identity.id)?.length ?? 0) + identity.foreignMembers.length,
      ...(identity.mergedInto ? { mergedIntoName: names.get(identity.mergedInto) ?? identity.mergedInto } : {}),
    }));
    await writeManifest(root, applyIdentities(manifest, states, new Date().toISOString()));
  }

  /** Members' distances to their identity's centroid now (this decides the order of contact sheets too). */
  private async refreshDistances(drafts: readonly IdentityDraft[]): Promise<void> {
    const byPack = new Map<string, Set<string>>();
    for (const d of drafts) for (const m of d.members) (byPack.get(m.modelPack) ?? byPack.set(m.modelPack, new Set()).get(m.modelPack)!).add(m.sha256);
    const records = new Map<string, FaceRecord>();
    for (const [pack, shas] of byPack) for (const f of await this.faces.facesOfSources(shas, pack)) records.set(faceKeyOf({ ...f, modelPack: pack }), f);
    for (const d of drafts) {
      const vs = d.members.map((m) => records.get(faceKeyOf(m))?.embedding).filter((v): v is Float32Array => v !== undefined);
      if (!vs.length) {
        d.identity = { ...d.identity, centroid: null, centroidModelPack: null };
        continue;
      }
      const c = centroid(vs);
      d.identity = { ...d.identity, centroid: c, centroidModelPack: d.members.find((m) => records.has(faceKeyOf(m)))!.modelPack };
      d.members = d.members.map((m) => {
        const e = records.get(faceKeyOf(m))?.embedding;
        return e ? { ...m, entry: { ...m.entry, distance: round4(cosineDistance(e, c)) } } : m;
      });
    }
  }

  /** Member records for faces that no identity of the root holds (assign from the unclustered). */
  private async membersFromRecords(keys: readonly FaceKey[]): Promise<Map<string, MemberRecord>> {
    const out = new Map<string, MemberRecord>();
    const missing: FaceKey[] = [];
    const byPack = new Map<string, FaceKey[]>();
    for (const k of keys) (byPack.get(k.modelPack) ?? byPack.set(k.modelPack, []).get(k.modelPack)!).push(k);
    for (const [pack, list] of byPack) {
      const records = indexFaces(await this.faces.facesOfSources(list.map((k) => k.sha256), pack));
      for (const k of list) {
        const f = records.get(faceKey2(k));
        if (!f) {
          missing.push(k);
          continue;
        }
        const paths = (await this.sources.aliasesOf(k.sha256)).map((a) => a.path);
        const png = cropFileName({ paths, sha256: k.sha256, faceIndex: k.faceIndex });
        out.set(faceKeyOf(k), {
          ...k, origin: 'assigned', file: png,
          entry: facesetMember({ ...f, png, paths, distance: 0 }) as unknown as Record<string, unknown>,
        });
      }
    }
    if (missing.length) throw new FaceNotInIdentityError(missing.map(encodeFaceId), 'known faces (no face record)');
    return out;
  }

  // ---- reads for the API ------------------------------------------------------------------------------------

  /** The identity with its members, each member's distance to the centroid now and, if curation leaves it out, why. */
  async detail(id: string): Promise<{ identity: IdentityRecord; members: (MemberRecord & { distance: number | null; left: LeftOut | null })[] }> {
    const [draft] = await this.drafts([id]);
    if (!draft) throw new IdentityNotFoundError(id);
    const embeddings = await this.embeddingsOf(draft.members);
    const vs = draft.members.map((m) => embeddings.get(faceKeyOf(m))).filter((v): v is Float32Array => v !== undefined);
    const c = vs.length ? centroid(vs) : null;
    const curation = await this.curate(draft);
    const left = new Map(curation.left.map((l) => [l.key, l]));
    return {
      identity: draft.identity,
      members: draft.members.map((m) => {
        const e = embeddings.get(faceKeyOf(m)), key = `${m.sha256}:${m.faceIndex}`, pose = curation.poses.get(key);
        // A member recorded before pose existed shows the pose its face record has now.
        const entry = m.entry.pose || !pose ? m.entry : { ...m.entry, pose };
        return { ...m, entry, distance: e && c ? round4(cosineDistance(e, c)) : null, left: left.get(key) ?? null };
      }),
    };
  }

  /**
   * Same-person candidates among the root's active identities (centroid distance ≤ upper) with their closest face
   * pairs, and this identity's least certain members: the farthest from its centroid, and any nearer another's.
   */
  async suggestions(id: string, upper = SUGGEST_UPPER): Promise<Suggestions> {
    const target = await this.identities.get(id);
    if (!target) throw new IdentityNotFoundError(id);
    const routeThreshold = numberParam(target.header, 'routeThreshold', DEFAULT_PARAMS.routeThreshold);
    const band = { from: routeThreshold, to: Math.max(upper, routeThreshold) };
    if (target.state !== 'active') return { band, merge: [], uncertain: [] };
    const active = (await this.identities.byRoot(target.outputRoot, { centroids: true })).filter((i) => i.state === 'active');
    const c = active.find((i) => i.id === id)?.centroid;
    if (!c) return { band, merge: [], uncertain: [] };
    const pack = target.centroidModelPack;
    const centroids = new Map(active.flatMap((i) => (i.centroid && i.centroidModelPack === pack ? [[i.id, i.centroid] as const] : [])));
    const near = active.filter((o) => o.id !== id && centroids.has(o.id) && cosineDistance(c, centroids.get(o.id)!) <= band.to);
    // Face embeddings only of this identity and of the candidates: the closest pairs are the evidence.
    const members = await this.identities.members([id, ...near.map((o) => o.id)]);
    const embeddings = await this.embeddingsOf([...members.values()].flat());
    const vectorsOf = (identity: string) =>
      (members.get(identity) ?? []).flatMap((m) => {
        const e = embeddings.get(faceKeyOf(m));
        return e ? [{ m, e }] : [];
      });
    const mine = vectorsOf(id);
    const merge: Suggestions['merge'] = [];
    for (const other of near) {
      const d = cosineDistance(c, centroids.get(other.id)!);
      const pairs: { faceId: string; otherFaceId: string; distance: number }[] = [];
      for (const a of mine) for (const b of vectorsOf(other.id)) pairs.push({ faceId: encodeFaceId(a.m), otherFaceId: encodeFaceId(b.m), distance: cosineDistance(a.e, b.e) });
      pairs.sort((x, y) => x.distance - y.distance);
      merge.push({ identity: summaryOf(other, members.get(other.id)?.length ?? 0), centroidDistance: round4(d), closestPairs: pairs.slice(0, 3).map((p) => ({ ...p, distance: round4(p.distance) })) });
    }
    merge.sort((a, b) => a.centroidDistance - b.centroidDistance);
    const uncertain: Suggestions['uncertain'] = mine.map(({ m, e }) => {
      const own = cosineDistance(e, c);
      let nearest: { identityId: string; name: string; distance: number } | null = null;
      for (const other of active) {
        const oc = centroids.get(other.id);
        if (other.id === id || !oc) continue;
        const d = cosineDistance(e, oc);
        if (!nearest || d < nearest.distance) nearest = { identityId: other.id, name: other.name, distance: round4(d) };
      }
      return { faceId: encodeFaceId(m), distance: round4(own), nearestOther: nearest, reason: nearest && nearest.distance < own ? ('nearer-other' as const) : ('far' as const) };
    });
    uncertain.sort((a, b) => Number(b.reason === 'nearer-other') - Number(a.reason === 'nearer-other') || b.distance - a.distance);
    const nearer = uncertain.filter((u) => u.reason === 'nearer-other');
    return { band, merge, uncertain: [...nearer, ...uncertain.filter((u) => u.reason === 'far').slice(0, UNCERTAIN_FAR)] };
  }

  /**
   * A square thumbnail of the face: resized from its identity PNG when one holds it, else cropped from its source
   * (only from paths under BUCKET_ROOTS). Cached per (face, size, format) in memory.
   */
  async thumb(faceId: string, size: number, format: 'webp' | 'png'): Promise<Buffer> {
    const key = decodeFaceId(faceId);
    if (!key) throw new IdentityRequestError(`params/faceId is not a face id: ${faceId}`);
    const cacheKey = `${faceId}:${size}:${format}`;
    const hit = thumbCache.get(cacheKey);
    if (hit) return hit;
    let input: Buffer | null = null;
    const roots = await this.allowedRoots();
    for (const h of await this.identities.holdersOfFace(key)) {
      // Only from roots still under OUTPUT_ROOTS, and never through a link.
      if (h.identity.state !== 'active' || !PNG_SET_WRITER.isMember(h.file) || !roots.some((r) => isInside(r, h.identity.outputRoot))) continue;
      // Never through a link: a member file (or set folder) pointing elsewhere is not shown; the source is.
      const folder = await findFolder(h.identity.outputRoot, h.identity.name).catch(() => null);
      if (folder) input = await readFileNoFollow(memberPath(join(h.identity.outputRoot, folder), h.file)).catch(() => null);
      if (input) break;
    }
    if (!input) {
      const [f] = (await this.faces.facesOfSources([key.sha256], key.modelPack)).filter((x) => x.faceIndex === key.faceIndex);
      if (!f) throw new FaceNotFoundError(faceId);
      const paths = (await Promise.all((await this.sources.aliasesOf(key.sha256)).map((a) => realPathUnder(a.path, this.deps.bucketRoots)))).filter((p): p is string => p !== null);
      for (const p of paths) {
        try {
          input = await renderCropPng(await this.deps.decodeImage(p), f.kps, THUMB_CROP);
          break;
        } catch {
          // the next path of the same content
        }
      }
      if (!input) throw new FaceNotFoundError(faceId, 'its source cannot be read');
    }
    const img = sharp(input).resize(size, size, { fit: 'cover' });
    const out = format === 'png' ? await img.png().toBuffer() : await img.webp({ quality: 80 }).toBuffer();
    thumbCache.set(cacheKey, out);
    return out;
  }

  private async embeddingsOf(members: readonly MemberRecord[]): Promise<Map<string, Float32Array>> {
    const byPack = new Map<string, Set<string>>();
    for (const m of members) (byPack.get(m.modelPack) ?? byPack.set(m.modelPack, new Set()).get(m.modelPack)!).add(m.sha256);
    const out = new Map<string, Float32Array>();
    for (const [pack, shas] of byPack) for (const f of await this.faces.facesOfSources(shas, pack)) out.set(faceKeyOf({ ...f, modelPack: pack }), f.embedding);
    return out;
  }

  /** The identity's contact sheet PNG, drawn now when no change has drawn it yet (adopted sets); null when it has no faces. */
  async contactSheet(id: string): Promise<Buffer | null> {
    const [draft] = await this.drafts([id]);
    if (!draft) throw new IdentityNotFoundError(id);
    if (draft.identity.state !== 'active' || !draft.members.length) return null;
    const root = draft.identity.outputRoot;
    await this.checkRoot(root);
    const file = join(root, contactSheetPath(draft.identity.name));
    await sheetsSettled(file);
    const have = await readFileNoFollow(file).catch(() => null);
    if (have) return have;
    const folder = await findFolder(root, draft.identity.name);
    if (!folder) return null;
    await writeIdentitySheet(root, draft.identity.name, join(root, folder), draft.members, this.deps.log);
    return readFileNoFollow(file).catch(() => null);
  }

  /** Resolves when every contact sheet a decision queued is written (call before closing). */
  settled(): Promise<void> {
    return sheetsSettled();
  }

  /** Every decision that touched the identity, newest first. */
  async history(id: string): Promise<DecisionRecord[]> {
    if (!(await this.identities.get(id))) throw new IdentityNotFoundError(id);
    return this.decisions.history(id);
  }
}

/** Parses face ids; names every one that is not a face id. */
export function parseFaceIds(ids: readonly string[]): FaceKey[] {
  const keys = ids.map((id) => decodeFaceId(id));
  const bad = ids.filter((_, i) => !keys[i]);
  if (bad.length) throw new IdentityRequestError(`body/faceIds are not face ids: ${bad.join(', ')}`);
  return keys as FaceKey[];
}

function eventOf(decisionId: string, drafts: readonly IdentityDraft[], created: IdentityDraft | null): Omit<ManifestEvent, 'outputRoot'> {
  const active = drafts.filter((d) => d.identity.state === 'active' && d !== created).map((d) => d.identity.name);
  const removed = drafts.filter((d) => d.identity.state !== 'active').map((d) => d.identity.name);
  return { jobId: `decision-${decisionId}`, decisionId, added: created ? [created.identity.name] : [], extended: active, removed };
}

function thinBelowOf(d: IdentityDraft): number {
  const v = (d.identity.header.params as { thinBelow?: unknown } | undefined)?.thinBelow;
  return typeof v === 'number' && v >= 0 ? v : DEFAULT_PARAMS.thinBelow;
}

function indexFaces<F extends { sha256: string; faceIndex: number }>(faces: readonly F[]): Map<string, F> {
  return new Map(faces.map((f) => [faceKey2(f), f]));
}

function manifestNumbers(m: { facesets: unknown[]; thin_eras: unknown[] }): number[] {
  return [...m.facesets, ...m.thin_eras].map((e) => facesetNumber(String((e as { name?: unknown })?.name ?? '')) ?? 0);
}

interface SetFolders {
  folders: { name: string; path: string }[];
  refused: { name: string; path: string; reason: string }[];
}

/**
 * Sorts one faceset_NNN entry (a Dirent or an lstat): a folder is used, a link or anything else is refused with
 * its reason. Top level wins over _thin/ when both hold a folder (a move is one rename, never half done).
 */
function addEntry(out: SetFolders, name: string, path: string, entry: { isDirectory(): boolean; isSymbolicLink(): boolean }): void {
  if (entry.isDirectory()) {
    if (!out.folders.some((f) => f.name === name)) out.folders.push({ name, path });
  } else if (entry.isSymbolicLink()) out.refused.push({ name, path, reason: `${path} is a symlink: the service never writes through links in an output root` });
  else out.refused.push({ name, path, reason: `${path} is not a folder: the service leaves it alone` });
}

/** The same as facesetFolders for the named identities only: one lstat per place, no listing of the root. */
async function foldersNamed(root: string, names: readonly string[]): Promise<SetFolders> {
  const out: SetFolders = { folders: [], refused: [] };
  for (const name of names) {
    for (const path of [name, `${THIN_DIR}/${name}`]) {
      const info = await lstat(join(root, path)).catch(() => null);
      if (info) addEntry(out, name, path, info);
    }
  }
  return out;
}

/** faceset_NNN folders at the top level and under _thin/, and those refused (symlinks: never followed). */
async function facesetFolders(root: string): Promise<SetFolders> {
  const out: SetFolders = { folders: [], refused: [] };
  for (const sub of ['', THIN_DIR]) {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(join(root, sub), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) if (facesetNumber(e.name) !== null) addEntry(out, e.name, sub ? `${sub}/${e.name}` : e.name, e);
  }
  return out;
}

export { placement, findFolder };
export type { IdentitySnapshot, DecisionKind };
