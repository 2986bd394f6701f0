// Aggregates over one job's sources and faces that its report needs, computed in SQL.
import type { Distribution } from '../report/types';
import type { Db } from './pool';

export interface ScanFacts {
  /** Sources recorded as errors (cached or by this job), with the job's representative path. */
  errorFiles: { path: string; reason: string }[];
  /** Faces per decoded source (ok + noface) → number of sources. */
  perImageHistogram: Record<string, number>;
  faceShort: Distribution;
  detScore: Distribution;
  blur: Distribution;
  faces: number;
}

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

  async scanFacts(jobId: string, modelPack: string): Promise<ScanFacts> {
    const args = [jobId, modelPack];
    const [errors, histogram, dist] = await Promise.all([
      this.db.query<{ path: string; reason: string | null }>(
        `SELECT path, reason FROM (${JOB_SOURCE_STATUS}) v WHERE status = 'error' ORDER BY path`,
        args,
      ),
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
      errorFiles: errors.rows.map((r) => ({ path: r.path, reason: r.reason ?? 'unknown error' })),
      perImageHistogram: Object.fromEntries(histogram.rows.map((r) => [String(r.faces), r.sources])),
      faceShort: pick(d.fs_median, d.fs_min),
      detScore: pick(d.ds_median, d.ds_min),
      blur: pick(d.bl_median, d.bl_min),
      faces: Number(d.n ?? 0),
    };
  }
}
