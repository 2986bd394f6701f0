// Aggregates over one job's sources and faces that its report needs, computed in SQL.
import { REPORT_LIST_LIMIT, type Distribution } from '../report/types';
import type { Db } from './pool';

export interface ScanFacts {
  /** Unreadable files (scan and embed errors), the first REPORT_LIST_LIMIT by path. */
  errorFiles: { path: string; reason: string }[];
  /** Unreadable files in all. */
  errorFilesTotal: number;
  /** Faces per decoded source (ok + noface) → number of sources. */
  perImageHistogram: Record<string, number>;
  faceShort: Distribution;
  detScore: Distribution;
  blur: Distribution;
  faces: number;
}

/** Every unreadable file of a job: the scan's (could not read to hash) and the sources that did not decode. */
const JOB_ERROR_FILES = (status: string) => `
  SELECT path, reason FROM job_scan_errors WHERE job_id = $1
  UNION ALL
  SELECT path, COALESCE(reason, 'unknown error') FROM (${status}) v WHERE status = 'error'`;

/**
 * The job's verdict on each source: the cache's for cached sources, its own for the ones it embedded and for
 * cached ones whose blur re-measure failed (their faces are kept out of the job).
 */
const JOB_SOURCE_STATUS = `
  SELECT js.sha256, js.path,
         CASE WHEN js.cached AND js.outcome IS DISTINCT FROM 'error' THEN s.status ELSE js.outcome END AS status,
         CASE WHEN js.cached AND js.outcome IS DISTINCT FROM 'error' THEN s.reason ELSE js.reason END AS reason,
         CASE WHEN js.cached AND js.outcome IS DISTINCT FROM 'error' THEN s.face_count ELSE js.faces END AS faces
  FROM job_sources js LEFT JOIN sources s ON s.sha256 = js.sha256 AND s.model_pack = $2
  WHERE js.job_id = $1`;

export class ReportsRepository {
  constructor(private readonly db: Db) {}

  /** Every unreadable file of a job, by path (what the report's bounded list is the start of). */
  async errorFiles(jobId: string, modelPack: string): Promise<{ path: string; reason: string }[]> {
    const { rows } = await this.db.query<{ path: string; reason: string }>(`${JOB_ERROR_FILES(JOB_SOURCE_STATUS)} ORDER BY path`, [jobId, modelPack]);
    return rows;
  }

  async scanFacts(jobId: string, modelPack: string): Promise<ScanFacts> {
    const args = [jobId, modelPack];
    const [errors, errorCount, histogram, dist] = await Promise.all([
      this.db.query<{ path: string; reason: string }>(`${JOB_ERROR_FILES(JOB_SOURCE_STATUS)} ORDER BY path LIMIT ${REPORT_LIST_LIMIT}`, args),
      this.db.query<{ n: number }>(`SELECT count(*) AS n FROM (${JOB_ERROR_FILES(JOB_SOURCE_STATUS)}) e`, args),
      this.db.query<{ faces: number; sources: number }>(
        `SELECT faces, count(*) AS sources FROM (${JOB_SOURCE_STATUS}) v
         WHERE status IN ('ok', 'noface') GROUP BY faces ORDER BY faces`,
        args,
      ),
      this.db.query(
        `SELECT count(*) AS n,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY f.face_short) AS fs_median, min(f.face_short) AS fs_min,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY f.det_score) AS ds_median, min(f.det_score) AS ds_min,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY f.blur) AS bl_median, min(f.blur) AS bl_min
         FROM (${JOB_SOURCE_STATUS}) v JOIN faces f ON f.sha256 = v.sha256 AND f.model_pack = $2
         WHERE v.status = 'ok'`,
        args,
      ),
    ]);
    const d = dist.rows[0] ?? {};
    const pick = (median: unknown, min: unknown): Distribution => ({
      median: median === null || median === undefined ? null : Number(median),
      min: min === null || min === undefined ? null : Number(min),
    });
    return {
      errorFiles: errors.rows,
      errorFilesTotal: errorCount.rows[0]?.n ?? 0,
      perImageHistogram: Object.fromEntries(histogram.rows.map((r) => [String(r.faces), r.sources])),
      faceShort: pick(d.fs_median, d.fs_min),
      detScore: pick(d.ds_median, d.ds_min),
      blur: pick(d.bl_median, d.bl_min),
      faces: Number(d.n ?? 0),
    };
  }
}
