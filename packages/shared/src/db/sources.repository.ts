// Paths and sources a job saw: aliases (every path, globally), job_paths / job_sources (per job), cache look-up.
import { POSE_VERSION } from '../curation/pose';
import { BLUR_VERSION } from '../engine/blur';
import type { EmbedFile } from '../queues';
import type { Db } from './pool';
import { shaToBytes, shaToHex } from './sha';

export interface SeenPath {
  path: string;
  sha256: string;
  size: number;
  mtime: Date;
  /** Import jobs: the bucket's top-level folder the path lies in. */
  folder?: string;
}

export interface CachedCounts {
  cached: number;
  toEmbed: number;
  cachedNoface: number;
  cachedErrors: number;
  cachedFaces: number;
  /** Cached sources whose faces carry an older blur or pose definition: the embed stage re-measures those only. */
  reblur: number;
}

export class SourcesRepository {
  constructor(private readonly db: Db) {}

  /**
   * Records a batch of paths for a job: upserts the global alias of each path (rewritten only where it changed, so a
   * re-scan of an unchanged bucket writes no alias row) and the job's own path list.
   */
  async recordPaths(jobId: string, bucket: string, paths: SeenPath[]): Promise<void> {
    if (paths.length === 0) return;
    const shas = paths.map((p) => shaToBytes(p.sha256));
    const names = paths.map((p) => p.path);
    await this.db.query(
      `INSERT INTO aliases (path, sha256, bucket, size, mtime, changed_by_job)
       SELECT u.path, u.sha, $1, u.size, u.mtime, $2
       FROM unnest($3::text[], $4::bytea[], $5::bigint[], $6::timestamptz[]) AS u(path, sha, size, mtime)
       ON CONFLICT (path) DO UPDATE SET sha256 = EXCLUDED.sha256, bucket = EXCLUDED.bucket, size = EXCLUDED.size,
         mtime = EXCLUDED.mtime, changed_at = now(), changed_by_job = EXCLUDED.changed_by_job
       WHERE (aliases.sha256, aliases.bucket, aliases.size, aliases.mtime)
         IS DISTINCT FROM (EXCLUDED.sha256, EXCLUDED.bucket, EXCLUDED.size, EXCLUDED.mtime)`,
      [bucket, jobId, names, shas, paths.map((p) => p.size), paths.map((p) => p.mtime)],
    );
    await this.db.query(
      `INSERT INTO job_paths (job_id, path, sha256, folder)
       SELECT $1, u.path, u.sha, u.folder FROM unnest($2::text[], $3::bytea[], $4::text[]) AS u(path, sha, folder)
       ON CONFLICT (job_id, path) DO UPDATE SET sha256 = EXCLUDED.sha256, folder = EXCLUDED.folder`,
      [jobId, names, shas, paths.map((p) => p.folder ?? null)],
    );
  }

  /**
   * Adds the job's distinct sources (first path seen for each), marking each cached when the model pack
   * already recorded it (unless `force`), and to re-measure when its faces carry an older definition of blur or
   * of the curation measures (pose, shot thumbnail). First writer wins, so a retried scan keeps the original verdicts.
   */
  async addJobSources(jobId: string, modelPack: string, force: boolean, files: EmbedFile[]): Promise<void> {
    if (files.length === 0) return;
    await this.db.query(
      `INSERT INTO job_sources (job_id, sha256, path, cached, reblur)
       SELECT $1, u.sha, u.path, (NOT $2::boolean AND s.sha256 IS NOT NULL),
              COALESCE(NOT $2::boolean AND s.status = 'ok' AND (s.blur_version < $6 OR s.pose_version < $7), false)
       FROM unnest($3::bytea[], $4::text[]) AS u(sha, path)
       LEFT JOIN sources s ON s.sha256 = u.sha AND s.model_pack = $5
       ON CONFLICT (job_id, sha256) DO NOTHING`,
      [jobId, force, files.map((f) => shaToBytes(f.sha256)), files.map((f) => f.path), modelPack, BLUR_VERSION, POSE_VERSION],
    );
  }

  async cachedCounts(jobId: string, modelPack: string): Promise<CachedCounts> {
    const { rows } = await this.db.query(
      `SELECT count(*) FILTER (WHERE js.cached) AS cached,
              count(*) FILTER (WHERE NOT js.cached) AS to_embed,
              count(*) FILTER (WHERE js.cached AND s.status = 'noface') AS cached_noface,
              count(*) FILTER (WHERE js.cached AND s.status = 'error') AS cached_errors,
              COALESCE(sum(s.face_count) FILTER (WHERE js.cached), 0) AS cached_faces,
              count(*) FILTER (WHERE js.reblur) AS reblur
       FROM job_sources js LEFT JOIN sources s ON s.sha256 = js.sha256 AND s.model_pack = $2
       WHERE js.job_id = $1`,
      [jobId, modelPack],
    );
    const r = rows[0];
    return {
      cached: r.cached,
      toEmbed: r.to_embed,
      cachedNoface: r.cached_noface,
      cachedErrors: r.cached_errors,
      cachedFaces: r.cached_faces,
      reblur: r.reblur,
    };
  }

  /**
   * One page of the job's sources to embed, and of the cached ones to re-measure blur of (flagged `reblur`): the
   * next `limit` after `after` (a sha256; null for the first page), in a stable order so a retried scan's batches
   * come out the same.
   */
  async toEmbedPage(jobId: string, after: string | null, limit: number): Promise<EmbedFile[]> {
    const { rows } = await this.db.query<{ sha256: Buffer; path: string; reblur: boolean }>(
      `SELECT sha256, path, reblur FROM job_sources
        WHERE job_id = $1 AND (NOT cached OR reblur) AND ($2::bytea IS NULL OR sha256 > $2)
        ORDER BY sha256 LIMIT $3`,
      [jobId, after === null ? null : shaToBytes(after), limit],
    );
    return rows.map((r) => ({ sha256: shaToHex(r.sha256), path: r.path, ...(r.reblur ? { reblur: true as const } : {}) }));
  }

  /** Records files the scan could not read (a retried scan writes the same rows again). */
  async recordScanErrors(jobId: string, errors: { path: string; reason: string }[]): Promise<void> {
    for (let i = 0; i < errors.length; i += 5_000) {
      const batch = errors.slice(i, i + 5_000);
      await this.db.query(
        `INSERT INTO job_scan_errors (job_id, path, reason) SELECT $1, u.path, u.reason FROM unnest($2::text[], $3::text[]) AS u(path, reason)
         ON CONFLICT (job_id, path) DO UPDATE SET reason = EXCLUDED.reason`,
        [jobId, batch.map((e) => e.path), batch.map((e) => e.reason)],
      );
    }
  }

  /** What the last scan recorded for these paths: content, size and mtime (a re-scan trusts unchanged files). */
  async knownPaths(paths: string[]): Promise<Map<string, { sha256: string; size: number; mtime: Date | null }>> {
    const out = new Map<string, { sha256: string; size: number; mtime: Date | null }>();
    if (paths.length === 0) return out;
    const { rows } = await this.db.query<{ path: string; sha256: Buffer; size: number; mtime: Date | null }>(
      'SELECT path, sha256, size, mtime FROM aliases WHERE path = ANY($1::text[])',
      [paths],
    );
    for (const r of rows) out.set(r.path, { sha256: shaToHex(r.sha256), size: Number(r.size), mtime: r.mtime });
    return out;
  }

  /** Which of these sources this job has already recorded (a batch re-run after a crash skips them). */
  async processedOf(jobId: string, sha256s: string[]): Promise<Set<string>> {
    const { rows } = await this.db.query<{ sha256: Buffer }>(
      `SELECT sha256 FROM job_sources WHERE job_id = $1 AND sha256 = ANY($2::bytea[]) AND processed_at IS NOT NULL`,
      [jobId, sha256s.map(shaToBytes)],
    );
    return new Set(rows.map((r) => shaToHex(r.sha256)));
  }

  /**
   * Unfinished starts of the job's sources (each one a worker that died while the file was in flight), for the files
   * of `sha256s` that are not processed yet; files never started are left out.
   */
  async crashesOf(jobId: string, sha256s: string[]): Promise<Map<string, { crashes: number; soloCrashes: number }>> {
    const { rows } = await this.db.query<{ sha256: Buffer; starts: number; solo_starts: number }>(
      `SELECT sha256, starts, solo_starts FROM job_sources
       WHERE job_id = $1 AND sha256 = ANY($2::bytea[]) AND processed_at IS NULL AND starts > 0`,
      [jobId, sha256s.map(shaToBytes)],
    );
    return new Map(rows.map((r) => [shaToHex(r.sha256), { crashes: r.starts, soloCrashes: r.solo_starts }]));
  }

  /** Counts a start of the file before it goes to the engine; `finished` takes it back when the engine answered. */
  async markStarted(jobId: string, sha256: string, solo: boolean): Promise<void> {
    await this.db.query(
      `UPDATE job_sources SET starts = starts + 1, solo_starts = solo_starts + $3::int
       WHERE job_id = $1 AND sha256 = $2 AND processed_at IS NULL`,
      [jobId, shaToBytes(sha256), solo ? 1 : 0],
    );
  }

  /** The engine answered (whatever the outcome): that start was no crash. */
  async markAnswered(jobId: string, sha256: string, solo: boolean): Promise<void> {
    await this.db.query(
      `UPDATE job_sources SET starts = greatest(starts - 1, 0), solo_starts = greatest(solo_starts - $3::int, 0)
       WHERE job_id = $1 AND sha256 = $2`,
      [jobId, shaToBytes(sha256), solo ? 1 : 0],
    );
  }

  /** Every path the job saw for each of its sources (byte-duplicates give several). */
  async jobPaths(jobId: string): Promise<Map<string, string[]>> {
    const { rows } = await this.db.query<{ sha256: Buffer; path: string }>(
      'SELECT sha256, path FROM job_paths WHERE job_id = $1 ORDER BY path',
      [jobId],
    );
    const out = new Map<string, string[]>();
    for (const r of rows) {
      const sha = shaToHex(r.sha256);
      const list = out.get(sha);
      if (list) list.push(r.path);
      else out.set(sha, [r.path]);
    }
    return out;
  }

  /**
   * Import jobs: every path of the job by top-level folder (name order), each with its content. A byte-duplicate
   * filed in two folders is listed under both.
   */
  async folderPaths(jobId: string): Promise<Map<string, { path: string; sha256: string }[]>> {
    const { rows } = await this.db.query<{ folder: string; path: string; sha256: Buffer }>(
      'SELECT folder, path, sha256 FROM job_paths WHERE job_id = $1 AND folder IS NOT NULL ORDER BY folder, path',
      [jobId],
    );
    const out = new Map<string, { path: string; sha256: string }[]>();
    for (const r of rows) {
      const entry = { path: r.path, sha256: shaToHex(r.sha256) };
      const list = out.get(r.folder);
      if (list) list.push(entry);
      else out.set(r.folder, [entry]);
    }
    return out;
  }

  /** Every path ever seen for a source, with its bucket. */
  async aliasesOf(sha256: string): Promise<{ path: string; bucket: string }[]> {
    const { rows } = await this.db.query<{ path: string; bucket: string }>(
      'SELECT path, bucket FROM aliases WHERE sha256 = $1 ORDER BY path',
      [shaToBytes(sha256)],
    );
    return rows;
  }

  /** aliasesOf for many sources in one query: sha256 → its paths, by path (sources without any are absent). */
  async aliasPathsOf(sha256s: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!sha256s.length) return out;
    const { rows } = await this.db.query<{ sha256: Buffer; path: string }>(
      'SELECT sha256, path FROM aliases WHERE sha256 = ANY($1::bytea[]) ORDER BY sha256, path',
      [sha256s.map(shaToBytes)],
    );
    for (const r of rows) {
      const sha = shaToHex(r.sha256);
      const list = out.get(sha);
      if (list) list.push(r.path);
      else out.set(sha, [r.path]);
    }
    return out;
  }
}
